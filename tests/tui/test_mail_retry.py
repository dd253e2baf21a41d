"""Retrying from the Mail screen: a welcome goes again with a fresh link, and a retry that can
no longer go (its login was deleted) says why in one line and changes nothing."""

from __future__ import annotations

from sqlalchemy import update
from textual.widgets import Static

from clientpay_tui.db.models import EmailStatus, OutboxEmail
from clientpay_tui.screens.mail import MailScreen
from tests.tui.conftest import emails_to, notifications, toasts, until


def _fail(services, email_id: int) -> None:
    with services.db.write() as session:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(status=EmailStatus.FAILED, attempts=10, last_error="gave up after 10 attempts")
        )


async def _retry_highlighted(app, pilot) -> MailScreen:
    await pilot.pause()
    await pilot.press("m")
    await until(pilot, lambda: isinstance(app.screen, MailScreen))
    screen = app.screen
    await screen.outbox.wait_loaded()
    await until(pilot, lambda: screen.outbox.highlighted is not None)
    await pilot.press("r")
    return screen


async def test_a_retry_of_a_deleted_logins_email_is_refused_with_the_reason(
    make_app, agent, services, admin, add_payer
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    queued = services.access.grant(admin, payer)
    _fail(services, queued.email_id)
    services.access.delete_login(admin, payer)
    [before] = emails_to(services, "ada@example.com")
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await _retry_highlighted(app, pilot)
        reason = "The login of ada@example.com was deleted, so this email cannot be retried"
        await until(pilot, lambda: any(reason in t for t in toasts(app)))
        [refusal] = [n for n in notifications(app) if reason in n.message]
        assert "\n" not in refusal.message and refusal.markup is False
        # The service says what happened; the screen adds what to do here, naming the key.
        assert refusal.message == (
            f"{reason}. Open the payer and switch Login Access on (l) to invite them again."
        )
        assert isinstance(app.screen, MailScreen)  # the app goes on
    [after] = emails_to(services, "ada@example.com")
    assert (after.status, after.body_text, after.attempts) == (
        EmailStatus.FAILED,
        before.body_text,
        10,
    )


async def test_a_retried_welcome_is_queued_with_a_new_link(
    make_app, agent, services, admin, add_payer, clock
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    queued = services.access.grant(admin, payer)
    [before] = emails_to(services, "ada@example.com")
    _fail(services, queued.email_id)
    clock.advance(days=60)
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await _retry_highlighted(app, pilot)
        await until(
            pilot,
            lambda: (
                "Queued the welcome email to ada@example.com again, with a new link." in toasts(app)
            ),
        )
    [after] = emails_to(services, "ada@example.com")
    assert after.status == EmailStatus.QUEUED
    assert after.body_text != before.body_text and "/welcome?token=" in (after.body_text or "")


async def test_the_line_under_the_outbox_follows_the_cursor(
    make_app, agent, services, admin, add_payer
):
    """The highlighted email in full below the table, changed with the cursor."""
    services.access.grant(admin, add_payer("Ada Lovelace", "ada@example.com"))
    services.access.grant(admin, add_payer("Grace Hopper", "grace@example.com"))
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MailScreen))
        screen = app.screen
        await screen.outbox.wait_loaded()
        detail = screen.query_one("#outbox-detail", Static)

        def detail_names(email: str) -> bool:
            row = screen.outbox.highlighted
            return row is not None and row.to_address == email and email in str(detail.content)

        await until(pilot, lambda: detail_names("grace@example.com"))  # newest first
        await pilot.press("down")
        assert detail_names("ada@example.com")
        await pilot.press("up")
        assert detail_names("grace@example.com")
