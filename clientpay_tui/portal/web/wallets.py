"""``/wallets`` (saved cards and bank accounts: add, remove, choose the default) and
``/transactions`` (the payer's payments, newest first, a page at a time)."""

from __future__ import annotations

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
    count_method_attempt,
    money,
    payment_context,
    read_bank,
    read_card,
    safe_values,
)

HISTORY_PAGE = 25
NOTICES = {
    "saved": "Saved to your wallet.",
    "removed": "Removed from your wallet.",
    "default": "Your default payment method changed.",
}


async def wallets_page(request: Request) -> Response:
    _session, identity = await require_payer(request)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return await _wallets(request, identity, notice=notice)


async def _wallets(
    request: Request,
    identity: PortalIdentity,
    *,
    error: str | None = None,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    kind: str = "card",
) -> Response:
    rows = await call(portal(request).wallets.for_login, identity.login_id)
    values = values or {}
    return await render(
        request,
        "wallets.html",
        identity=identity,
        error=error,
        notice=notice,
        wallets=rows,
        kind=kind,
        holder_name=values.get("holder_name", ""),
        exp_month=values.get("exp_month", ""),
        exp_year=values.get("exp_year", ""),
        **payment_context(request),
    )


async def add_method(request: Request) -> Response:
    form = await checked_form(request)
    _session, identity = await require_payer(request)
    kind = "bank" if text_field(form, "kind", 10) == "bank" else "card"
    make_default = text_field(form, "make_default", 5) == "yes"
    wallets = portal(request).wallets
    try:
        if kind == "bank":
            bank = read_bank(form)
            await count_method_attempt(request, identity.login_id)
            await call(wallets.add_bank, identity.login_id, bank, make_default=make_default)
        else:
            card = read_card(request, form)
            await count_method_attempt(request, identity.login_id)
            await call(wallets.add_card, identity.login_id, card, make_default=make_default)
    except (ValidationFailed, PaymentError, RateLimited) as error:
        return await _wallets(
            request, identity, error=str(error), values=safe_values(form), kind=kind
        )
    return redirect(request, "/wallets?done=saved")


async def _wallet_action(request: Request, action: str) -> Response:
    form = await checked_form(request)
    _session, identity = await require_payer(request)
    wallet_id = text_field(form, "wallet_id", 12)
    wallets = portal(request).wallets
    change = wallets.remove if action == "removed" else wallets.set_default
    try:
        if not wallet_id.isdigit():
            raise NotFound("This payment method is not in your wallet.")
        await call(change, identity.login_id, int(wallet_id))
    except NotFound as error:
        return await _wallets(request, identity, error=str(error))
    return redirect(request, f"/wallets?done={action}")


async def remove_method(request: Request) -> Response:
    return await _wallet_action(request, "removed")


async def default_method(request: Request) -> Response:
    return await _wallet_action(request, "default")


async def transactions_page(request: Request) -> Response:
    _session, identity = await require_payer(request)
    raw = request.query_params.get("page", "1")
    page = max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1
    views, total = await call(
        portal(request).payments.history,
        identity.login_id,
        (page - 1) * HISTORY_PAGE,
        HISTORY_PAGE,
    )
    rows = [
        {
            "when": f"{v.created_at:%Y-%m-%d %H:%M} UTC",
            "invoices": ", ".join(a.invoice_number for a in v.allocations),
            "method": v.method_label,
            "amount": money(v.amount_cents),
            "status": v.status,
            "reason": v.reason or "",
        }
        for v in views
    ]
    return await render(
        request,
        "transactions.html",
        identity=identity,
        error=None,
        notice=None,
        rows=rows,
        total=total,
        page=page,
        previous_page=page - 1 if page > 1 else None,
        next_page=page + 1 if page * HISTORY_PAGE < total else None,
        **payment_context(request),
    )


ROUTES = [
    Route("/wallets", wallets_page, methods=["GET"]),
    Route("/wallets", add_method, methods=["POST"]),
    Route("/wallets/remove", remove_method, methods=["POST"]),
    Route("/wallets/default", default_method, methods=["POST"]),
    Route("/transactions", transactions_page, methods=["GET"]),
]
