"""Pilot fixtures: the real app on the test database, signed in as a real staff member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from textual.notifications import Notification

from clientpay_tui.app import ClientPayApp
from clientpay_tui.db.models import (
    EmailKind,
    Integration,
    IntegrationName,
    OutboxEmail,
    Payer,
    PortalLogin,
    Role,
)
from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from tests.waiting import ToastLog, screen_text, until

__all__ = ["screen_text", "until"]  # tests import them from here too

SIZE = (80, 24)


@pytest.fixture
def staff(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor(Role.STAFF, "sam")


@pytest.fixture
def agent(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor(Role.AGENT, "alex")


@pytest.fixture
def make_app(services: Services) -> Callable[..., ClientPayApp]:
    def make(actor: Actor | None = None, **kwargs: Any) -> ClientPayApp:
        return RecordingApp(services, actor=actor, handle_sighup=False, **kwargs)

    return make


@pytest.fixture
def add_payer(services: Services, admin: Actor) -> Callable[..., int]:
    def add(name: str, email: str | None = None, **fields: Any) -> int:
        return services.payers.create(admin, PayerForm(name=name, email=email, **fields)).id

    return add


def connect(services: Services, admin: Actor, enabled: bool = True) -> None:
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, enabled)


# Rows are detached before the read transaction rolls back, so tests can read them after.


def payer_row(services: Services, payer_id: int) -> Payer:
    with services.db.read() as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
        session.expunge_all()
        return payer


def login_of(services: Services, payer_id: int) -> PortalLogin | None:
    with services.db.read() as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
        login = session.get(PortalLogin, payer.login_id) if payer.login_id else None
        session.expunge_all()
        return login


def emails_to(services: Services, address: str) -> list[OutboxEmail]:
    with services.db.read() as session:
        emails = list(
            session.scalars(
                select(OutboxEmail)
                .where(OutboxEmail.to_address == address)
                .order_by(OutboxEmail.id)
            )
        )
        session.expunge_all()
        return emails


def kinds(emails: list[OutboxEmail]) -> list[EmailKind]:
    return [email.kind for email in emails]


def integration_enabled(services: Services, name: IntegrationName) -> bool:
    with services.db.read() as session:
        row = session.get(Integration, name)
        return bool(row and row.enabled)


class RecordingApp(ClientPayApp):
    """The app, with every toast it shows recorded through ``run_test``'s message hook."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.toast_log = ToastLog()

    def run_test(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("message_hook", self.toast_log.hook)
        return super().run_test(*args, **kwargs)


def toasts(app: ClientPayApp) -> list[str]:
    assert isinstance(app, RecordingApp), "make the app with the make_app fixture"
    return app.toast_log.messages


def notifications(app: ClientPayApp) -> list[Notification]:
    assert isinstance(app, RecordingApp), "make the app with the make_app fixture"
    return app.toast_log.notifications


async def open_details(app: ClientPayApp, pilot: Any, payer_id: int) -> Any:
    """Open a payer as the palette does and wait for its screen (and its tabs) to load."""
    from clientpay_tui.screens.payer_details import PayerDetailsScreen

    await pilot.pause()
    app.open_payer(payer_id)
    await until(
        pilot,
        lambda: isinstance(app.screen, PayerDetailsScreen) and app.screen.detail.id == payer_id,
    )
    screen = app.screen
    await until(pilot, lambda: screen.tabs_loaded)
    return screen


async def dialog(app: ClientPayApp, pilot: Any) -> Any:
    """Wait for the confirm dialog and return it."""
    from clientpay_tui.screens.confirm import ConfirmScreen

    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    return app.screen


def dialog_text(screen: Any) -> str:
    return str(screen.query_one("#dialog-message").render())
