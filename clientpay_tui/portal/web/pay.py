"""``/pay``: choose invoices (all payable preselected) or an amount spread oldest first, choose
a saved or new method, confirm a summary, pay once, see the outcome.

Each step answers a POST with a redirect: ``/pay`` → ``/pay/confirm?key=…`` (the summary, with
the confirmation's idempotency key in its form) → ``/pay/result?key=…``. A reload or a second
click on Pay shows the same outcome; the key charges once (see
:mod:`clientpay_tui.services.payments.paying`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientpay_tui.errors import NotFound, PaymentError, RateLimited, ValidationFailed
from clientpay_tui.portal import PortalIdentity
from clientpay_tui.portal.web.pages import (
    call,
    checked_form,
    portal,
    redirect,
    render,
    require_payer,
    text_field,
)
from clientpay_tui.portal.web.payment_forms import (
    amount_cents,
    count_method_attempt,
    money,
    payment_context,
    read_bank,
    read_card,
    safe_values,
)
from clientpay_tui.services.payments.choosing import PAYABLE_SHOWN
from clientpay_tui.services.payments.paying import MethodChoice
from clientpay_tui.services.payments.views import PaymentView

MAX_FIELDS = PAYABLE_SHOWN + 20
"""One checkbox per payable invoice listed, and the other fields."""


async def pay_page(request: Request) -> Response:
    _session, identity = await require_payer(request)
    return await _choose(request, identity)


async def _choose(
    request: Request,
    identity: PortalIdentity,
    *,
    error: str | None = None,
    chosen: set[int] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    the_portal = portal(request)
    payables = await call(the_portal.payments.payable, identity.login_id)
    wallets = await call(the_portal.wallets.for_login, identity.login_id)
    values = values or {}
    usable = [w for w in wallets if w.usable and not w.expired]
    default = next((f"wallet:{w.id}" for w in usable if w.is_default), None)
    method = values.get("method") or default or (f"wallet:{usable[0].id}" if usable else "card")
    return await render(
        request,
        "pay.html",
        identity=identity,
        error=error,
        notice=None,
        invoices=[
            {
                "id": i.invoice_id,
                "number": i.invoice_number,
                "date": i.invoice_date.isoformat(),
                "client": i.client_name,
                "matter": i.matter_description or "",
                "balance": money(i.balance_cents),
                "checked": chosen is None or i.invoice_id in chosen,
            }
            for i in payables.invoices
        ],
        count=f"{payables.count:,} or more" if payables.capped else f"{payables.count:,}",
        total=None if payables.total_cents is None else money(payables.total_cents),
        more=payables.count - len(payables.invoices),
        wallets=usable,
        mode=values.get("mode", "invoices"),
        amount=values.get("amount", ""),
        method=method,
        holder_name=values.get("holder_name", ""),
        exp_month=values.get("exp_month", ""),
        exp_year=values.get("exp_year", ""),
        **payment_context(request),
    )


async def choose(request: Request) -> Response:
    await request.form(max_files=0, max_fields=MAX_FIELDS)  # cached: checked_form reads it
    form = await checked_form(request)
    _session, identity = await require_payer(request)
    mode = "amount" if text_field(form, "mode", 10) == "amount" else "invoices"
    method = text_field(form, "method", 30)
    chosen = {int(v) for v in form.getlist("invoice") if isinstance(v, str) and v.isdigit()}
    values = {
        "mode": mode,
        "method": method,
        "amount": text_field(form, "amount", 20),
        **safe_values(form),
    }
    try:
        if method == "card":
            choice = MethodChoice(card=read_card(request, form))
            await count_method_attempt(request, identity.login_id)
        elif method == "bank":
            choice = MethodChoice(bank=read_bank(form))
            await count_method_attempt(request, identity.login_id)
        elif method.startswith("wallet:") and method[7:].isdigit():
            choice = MethodChoice(wallet_id=int(method[7:]))
        else:
            raise ValidationFailed("Choose how to pay.")
        draft = await call(
            portal(request).payments.confirm,
            identity.login_id,
            choice,
            invoice_ids=sorted(chosen) if mode == "invoices" else None,
            amount_cents=amount_cents(values["amount"]) if mode == "amount" else None,
        )
    except (ValidationFailed, PaymentError, RateLimited) as error:
        return await _choose(request, identity, error=str(error), chosen=chosen, values=values)
    return redirect(request, f"/pay/confirm?key={draft.idempotency_key}")


async def _payment(request: Request, identity: PortalIdentity, key: str) -> PaymentView | None:
    try:
        return await call(portal(request).payments.outcome, identity.login_id, key[:64])
    except NotFound:
        return None


async def _unknown(request: Request) -> Response:
    return await render(
        request,
        "refused.html",
        status_code=404,
        message="This payment confirmation is not known. Start the payment again from Pay.",
    )


def _summary(view: PaymentView) -> dict[str, Any]:
    return {
        "key": view.idempotency_key,
        "status": view.status,
        "amount": money(view.amount_cents),
        "method": view.method_label,
        "reason": view.reason,
        "reference": view.gateway_reference,
        "transaction_id": view.transaction_id,
        "lines": [(a.invoice_number, money(a.amount_cents)) for a in view.allocations],
    }


async def confirm_page(request: Request) -> Response:
    _session, identity = await require_payer(request)
    key = request.query_params.get("key", "")
    view = await _payment(request, identity, key)
    if view is None:
        return await _unknown(request)
    if view.status != "draft":
        return redirect(request, f"/pay/result?key={view.idempotency_key}")
    return await render(
        request,
        "pay_confirm.html",
        identity=identity,
        error=None,
        notice=None,
        payment=_summary(view),
        **payment_context(request),
    )


async def pay(request: Request) -> Response:
    form = await checked_form(request)
    _session, identity = await require_payer(request)
    key = text_field(form, "key", 64)
    try:
        view = await call(portal(request).payments.pay, identity.login_id, key)
    except NotFound:
        return await _unknown(request)
    except PaymentError as error:  # payments switched off since the summary was shown
        return await render(request, "refused.html", status_code=503, message=str(error))
    return redirect(request, f"/pay/result?key={view.idempotency_key}")


async def result_page(request: Request) -> Response:
    _session, identity = await require_payer(request)
    view = await _payment(request, identity, request.query_params.get("key", ""))
    if view is None:
        return await _unknown(request)
    if view.status == "draft":
        return redirect(request, f"/pay/confirm?key={view.idempotency_key}")
    if view.status == "pending" and view.idempotency_key:
        # A reload asks again with the same key once the charge is overdue (never twice).
        with contextlib.suppress(PaymentError):  # payments switched off: show it pending
            view = await call(portal(request).payments.pay, identity.login_id, view.idempotency_key)
    payables = await call(portal(request).payments.payable, identity.login_id, 0)
    return await render(
        request,
        "pay_result.html",
        identity=identity,
        error=None,
        notice=None,
        payment=_summary(view),
        open_now=None if payables.total_cents is None else money(payables.total_cents),
        **payment_context(request),
    )


ROUTES = [
    Route("/pay", pay_page, methods=["GET"]),
    Route("/pay", choose, methods=["POST"]),
    Route("/pay/confirm", confirm_page, methods=["GET"]),
    Route("/pay/confirm", pay, methods=["POST"]),
    Route("/pay/result", result_page, methods=["GET"]),
]
