"""Paying invoices: once per confirmation, all or nothing, never over a balance, never an
invoice the payer may not pay."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select

from clientpay_tui.db.models import AuditEvent, EmailKind, IntegrationName, OutboxEmail, Payer
from clientpay_tui.db.payment_models import Transaction, TransactionInvoice
from clientpay_tui.errors import NotFound, PaymentDeclined, ValidationFailed
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.payments.gateway import Approved
from clientpay_tui.services.payments.paying import MethodChoice
from clientpay_tui.services.payments.testmode import TestGateway

from .conftest import DECLINE, ERROR, balances, card


def _saved(services, payer, number: str = "4242 4242 4242 4242") -> MethodChoice:
    return MethodChoice(wallet_id=services.wallets.add_card(payer.login_id, card(number)).id)


def _count(services, model) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def test_payable_invoices_are_the_visible_open_payable_ones_oldest_first(services, payer) -> None:
    payables = services.payments.payable(payer.login_id)
    assert [i.invoice_number for i in payables.invoices] == ["OLD", "MID", "INT"]
    assert (payables.count, payables.total_cents) == (3, 6_000 + 20_000 + 5_000)


def test_an_approved_payment_lowers_balances_records_emails_and_audits(
    services, payer, gateway
) -> None:
    method = _saved(services, payer)
    ids = [payer.invoices["MID"], payer.invoices["OLD"]]
    draft = services.payments.confirm(payer.login_id, method, invoice_ids=ids)
    assert draft.status == "draft" and draft.amount_cents == 26_000
    assert [(a.invoice_number, a.amount_cents) for a in draft.allocations] == [
        ("OLD", 6_000),
        ("MID", 20_000),
    ]
    assert balances(services)["MID"] == 20_000  # confirming reserves nothing

    done = services.payments.pay(payer.login_id, draft.idempotency_key)

    assert done.paid and done.method_label == "Visa •••• 4242" and done.gateway_reference
    assert (balances(services)["OLD"], balances(services)["MID"]) == (0, 0)
    assert len(gateway.charges) == 1 and gateway.charges[0].amount_cents == 26_000
    with services.db.read() as session:
        receipt = session.execute(
            select(OutboxEmail.to_address, OutboxEmail.body_text).where(
                OutboxEmail.kind == EmailKind.RECEIPT
            )
        ).one()
        summaries = list(
            session.scalars(
                select(AuditEvent.summary).where(AuditEvent.action == "payment.succeeded")
            )
        )
    to_address, body = receipt
    assert to_address == "ada@example.com"
    assert "260.00" in body and "OLD: 60.00" in body and "TEST MODE" in body
    assert summaries == [
        "Paid 260.00 of OLD, MID with Visa •••• 4242 (test mode); "
        f"transaction {done.transaction_id}"
    ]
    history, total = services.payments.history(payer.login_id)
    assert total == 1 and history[0].transaction_id == done.transaction_id


def test_an_amount_is_spread_oldest_first(services, payer) -> None:
    draft = services.payments.confirm(payer.login_id, _saved(services, payer), amount_cents=8_000)
    assert [(a.invoice_number, a.amount_cents) for a in draft.allocations] == [
        ("OLD", 6_000),
        ("MID", 2_000),
    ]
    services.payments.pay(payer.login_id, draft.idempotency_key)
    assert (balances(services)["OLD"], balances(services)["MID"]) == (0, 18_000)
    with pytest.raises(ValidationFailed, match="more than you can pay"):
        services.payments.confirm(payer.login_id, _saved(services, payer), amount_cents=999_999)


@pytest.mark.parametrize(("number", "status"), [(DECLINE, "declined"), (ERROR, "failed")])
def test_decline_and_error_cards_change_no_balance(services, payer, number, status) -> None:
    before = balances(services)
    draft = services.payments.confirm(
        payer.login_id, _saved(services, payer, number), invoice_ids=[payer.invoices["MID"]]
    )
    outcome = services.payments.pay(payer.login_id, draft.idempotency_key)
    assert outcome.status == status and not outcome.paid and outcome.reason
    assert balances(services) == before
    with services.db.read() as session:
        assert (
            session.scalar(select(func.count()).where(OutboxEmail.kind == EmailKind.RECEIPT)) == 0
        )
        assert (
            session.scalar(select(func.count()).where(AuditEvent.action == f"payment.{status}"))
            == 1
        )


def test_a_double_submitted_confirmation_charges_once(services, payer, gateway) -> None:
    draft = services.payments.confirm(
        payer.login_id, _saved(services, payer), invoice_ids=[payer.invoices["OLD"]]
    )
    first = services.payments.pay(payer.login_id, draft.idempotency_key)
    again = services.payments.pay(payer.login_id, draft.idempotency_key)
    assert first == again and first.paid
    assert len(gateway.charges) == 1
    assert balances(services)["OLD"] == 0
    assert services.payments.outcome(payer.login_id, draft.idempotency_key) == first


def test_the_same_key_posted_from_two_threads_charges_once(services, payer, gateway) -> None:
    draft = services.payments.confirm(
        payer.login_id, _saved(services, payer), invoice_ids=[payer.invoices["MID"]]
    )
    results = _together(2, lambda: services.payments.pay(payer.login_id, draft.idempotency_key))
    assert len(gateway.charges) == 1
    assert balances(services)["MID"] == 0
    assert {r.status for r in results} <= {"pending", "succeeded"}
    assert services.payments.outcome(payer.login_id, draft.idempotency_key).paid


def _together(count: int, work):
    """Run ``work`` in ``count`` threads released at once; return their results."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert not errors, errors
    return results


def test_concurrent_payments_of_one_invoice_never_over_pay(services, payer, gateway) -> None:
    method = _saved(services, payer)
    mid = payer.invoices["MID"]
    drafts = [
        services.payments.confirm(payer.login_id, method, invoice_ids=[mid]) for _ in range(4)
    ]
    keys = iter(d.idempotency_key for d in drafts)
    lock = threading.Lock()

    def pay_next():
        with lock:
            key = next(keys)
        return services.payments.pay(payer.login_id, key)

    results = _together(4, pay_next)

    assert sorted(r.status for r in results) == ["cancelled", "cancelled", "cancelled", "succeeded"]
    assert balances(services)["MID"] == 0
    assert len(gateway.charges) == 1
    with services.db.read() as session:
        paid = session.scalar(
            select(func.sum(TransactionInvoice.amount_cents))
            .join(Transaction)
            .where(Transaction.status == "succeeded", TransactionInvoice.invoice_id == mid)
        )
    assert paid == 20_000
    cancelled = next(r for r in results if r.status == "cancelled")
    assert cancelled.reason == "MID is already paid: nothing was charged."


def test_a_payment_reading_an_invoice_another_is_reserving_waits_for_it(
    services, payer, gateway
) -> None:
    """Two sessions read the same invoice at the same moment (PostgreSQL: row locks and
    ``UPDATE … WHERE balance_cents >= amount`` decide; SQLite serialises writers with
    ``BEGIN IMMEDIATE``, so there the second only starts after the first committed)."""
    method = _saved(services, payer)
    mid = payer.invoices["MID"]
    drafts = [services.payments.confirm(payer.login_id, method, invoice_ids=[mid]) for _ in "ab"]
    reading: set[str] = set()
    arrived = threading.Condition()
    held: list[str] = []

    def reserving(statement: str) -> bool:
        return "FROM invoice" in statement and "ORDER BY invoice.id" in statement

    def before(_conn, _cursor, statement, *_args) -> None:
        if reserving(statement):
            with arrived:
                reading.add(threading.current_thread().name)
                arrived.notify_all()

    def after(_conn, _cursor, statement, *_args) -> None:
        if not reserving(statement) or services.db.is_sqlite:
            return
        with arrived:
            if held:
                return
            held.append(threading.current_thread().name)
            # Hold the first reservation open until the other session has sent its read.
            assert arrived.wait_for(lambda: len(reading) == 2, timeout=20), "no second reader"

    event.listen(services.db.engine, "before_cursor_execute", before)
    event.listen(services.db.engine, "after_cursor_execute", after)
    keys = iter(d.idempotency_key for d in drafts)
    lock = threading.Lock()

    def pay_next():
        with lock:
            key = next(keys)
        return services.payments.pay(payer.login_id, key)

    try:
        results = _together(2, pay_next)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", before)
        event.remove(services.db.engine, "after_cursor_execute", after)
    assert sorted(r.status for r in results) == ["cancelled", "succeeded"]
    assert balances(services)["MID"] == 0 and len(gateway.charges) == 1


def test_invoices_the_payer_may_not_pay_are_refused_whatever_is_posted(
    services, payer, admin
) -> None:
    method = _saved(services, payer)
    for number, message in (
        ("EXT", "external system"),
        ("PAID", "Paid"),
        ("OTHER", "not shown"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            services.payments.confirm(payer.login_id, method, invoice_ids=[payer.invoices[number]])
    with pytest.raises(ValidationFailed, match="not shown"):
        services.payments.confirm(payer.login_id, method, invoice_ids=[987_654])
    assert _count(services, Transaction) == 0
    # Internal invoicing turned off after the confirmation page: the payment is cancelled.
    draft = services.payments.confirm(payer.login_id, method, invoice_ids=[payer.invoices["INT"]])
    services.integrations.set_enabled(admin, IntegrationName.INVOICING, False)
    outcome = services.payments.pay(payer.login_id, draft.idempotency_key)
    assert outcome.status == "cancelled" and "not enabled" in (outcome.reason or "")
    assert balances(services)["INT"] == 5_000
    assert services.payments.history(payer.login_id) == ([], 0)


def test_another_logins_confirmation_is_unknown(services, payer, admin) -> None:
    draft = services.payments.confirm(
        payer.login_id, _saved(services, payer), invoice_ids=[payer.invoices["OLD"]]
    )
    other = services.payers.create(admin, PayerForm(name="Eve", email="eve@example.com"))
    services.access.grant(admin, other.id)
    with services.db.read() as session:
        eve = session.get(Payer, other.id).login_id
    with pytest.raises(NotFound):
        services.payments.pay(eve, draft.idempotency_key)
    with pytest.raises(NotFound):
        services.payments.outcome(eve, draft.idempotency_key)
    with pytest.raises(ValidationFailed):
        services.payments.confirm(eve, MethodChoice(wallet_id=draft.transaction_id), amount_cents=1)
    assert balances(services)["OLD"] == 6_000


def test_a_one_off_card_pays_without_being_saved(services, payer) -> None:
    draft = services.payments.confirm(
        payer.login_id, MethodChoice(card=card()), invoice_ids=[payer.invoices["INT"]]
    )
    assert draft.method_label == "Visa •••• 4242"
    assert services.payments.pay(payer.login_id, draft.idempotency_key).paid
    assert services.wallets.for_login(payer.login_id) == []
    with services.db.read() as session:
        assert session.scalar(select(Transaction.one_off_token)) is None
    with pytest.raises(PaymentDeclined):
        services.payments.confirm(
            payer.login_id, MethodChoice(card=card("4111 1111 1111 1111")), amount_cents=100
        )


class _DiesOnce(TestGateway):
    """The process 'dies' during the first charge: the gateway never answered."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def charge(self, token, amount_cents, idempotency_key, description):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("gateway went away")
        return super().charge(token, amount_cents, idempotency_key, description)


def test_a_payment_left_pending_is_asked_again_with_its_key(db, settings, clock, payer) -> None:
    from clientpay_tui.services.facade import Services

    gateway = _DiesOnce()
    services = Services(db, settings, clock, gateway=gateway)
    draft = services.payments.confirm(
        payer.login_id, _saved(services, payer), invoice_ids=[payer.invoices["MID"]]
    )
    assert services.payments.pay(payer.login_id, draft.idempotency_key).status == "pending"
    assert services.payments.pay(payer.login_id, draft.idempotency_key).status == "pending"
    assert gateway.calls == 1  # not stale yet: not asked again
    assert balances(services)["MID"] == 0  # still reserved
    clock.advance(minutes=3)
    done = services.payments.pay(payer.login_id, draft.idempotency_key)
    assert done.paid and gateway.calls == 2 and len(gateway.charges) == 1
    assert isinstance(gateway.charges[0].result, Approved)


def test_history_is_newest_first_and_paged_for_the_payer_and_for_staff(
    services, payer, clock, admin
) -> None:
    method = _saved(services, payer)
    keys = []
    for _ in range(3):
        draft = services.payments.confirm(payer.login_id, method, amount_cents=1_000)
        services.payments.pay(payer.login_id, draft.idempotency_key)
        keys.append(draft.idempotency_key)
        clock.advance(minutes=1)
    services.payments.confirm(payer.login_id, method, amount_cents=1_000)  # a draft: not listed
    page, total = services.payments.history(payer.login_id, offset=0, limit=2)
    assert total == 3
    assert [p.idempotency_key for p in page] == keys[::-1][:2]
    rest, _ = services.payments.history(payer.login_id, offset=2, limit=2)
    assert [p.idempotency_key for p in rest] == keys[:1]
    staff, staff_total = services.payments.for_payer(admin, payer.payer_id)
    assert staff_total == 3 and [p.idempotency_key for p in staff] == keys[::-1]


def test_a_payer_who_sees_many_invoices_is_walked_with_the_same_answers(
    services, payer, monkeypatch
) -> None:
    from clientpay_tui.services.payments import choosing

    gathered = services.payments.payable(payer.login_id)
    assert not gathered.capped
    with services.db.read() as session:
        ids = (payer.payer_id,)
        walked = choosing.payables(session, ids, cap=3)  # 5 visible: past the cap, walked
        page = choosing.payables(session, ids, limit=2, cap=3)  # a full page: not counted
    assert walked == gathered
    assert page.invoices == gathered.invoices[:2]
    assert (page.count, page.total_cents, page.capped) == (2, None, True)
    monkeypatch.setattr(choosing, "FIGURES_CAP", 2)
    draft = services.payments.confirm(payer.login_id, _saved(services, payer), amount_cents=8_000)
    assert [(a.invoice_number, a.amount_cents) for a in draft.allocations] == [
        ("OLD", 6_000),
        ("MID", 2_000),
    ]
