"""Portal logins in every state for the seeded payers, so that the status filter has something
to find: ``clientpay-tui seed`` makes payers without logins.

By payer id (per mille): 2 locked, 3 whose welcome email failed, 50 invited with an expired
link, 150 invited with a live link, 95 active, the other 700 without a login. Written with
``INSERT … SELECT`` (a few seconds at 100,000 payers), once: a database that has logins
already is left as it is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, insert, literal, select, update

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import (
    AccessToken,
    EmailKind,
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.db.types import utcnow

LOCKED, FAILED, EXPIRED, INVITED, ACTIVE = 2, 5, 55, 205, 300
"""Upper bounds of each state's per-mille band of payer ids (``id % 1000``)."""
HOUR = timedelta(hours=1)
LOGIN_COLUMNS = [
    "id",
    "email_key",
    "status",
    "created_at",
    "accepted_at",
    "failed_attempts",
    "locked_until",
]
EMAIL_COLUMNS = [
    "kind",
    "payer_id",
    "to_address",
    "to_name",
    "subject",
    "message_id",
    "status",
    "attempts",
    "next_attempt_at",
    "requested_by",
    "created_at",
    "sent_at",
    "last_error",
]


def _typed(value: Any, column: Any) -> Any:
    return literal(value, column.type)


def add_login_states(url: str) -> int:
    """Give the payers of ``url`` their logins, tokens and welcome emails (see the module);
    returns how many logins the database holds."""
    db = Database(url)
    now = utcnow()
    band = Payer.id % 1000
    with_login = (band < ACTIVE) & Payer.email_key.is_not(None)
    try:
        with db.engine.begin() as connection:
            existing = int(connection.scalar(select(func.count()).select_from(PortalLogin)) or 0)
            if existing:
                return existing
            invited = band.between(LOCKED, INVITED - 1)
            connection.execute(
                insert(PortalLogin).from_select(
                    [*LOGIN_COLUMNS],
                    select(
                        Payer.id,
                        Payer.email_key,
                        case(
                            (invited, _typed(LoginStatus.INVITED, PortalLogin.status)),
                            else_=_typed(LoginStatus.ACTIVE, PortalLogin.status),
                        ),
                        _typed(now - timedelta(days=10), PortalLogin.created_at),
                        case(
                            (invited, None),
                            else_=_typed(now - timedelta(days=9), PortalLogin.accepted_at),
                        ),
                        literal(0),
                        case(
                            (band < LOCKED, _typed(now + HOUR, PortalLogin.locked_until)),
                            else_=None,
                        ),
                    ).where(with_login),
                )
            )
            connection.execute(update(Payer).where(with_login).values(login_id=Payer.id))
            connection.execute(
                insert(AccessToken).from_select(
                    ["login_id", "purpose", "token_hash", "created_at", "expires_at"],
                    select(
                        Payer.id,
                        _typed(TokenPurpose.WELCOME, AccessToken.purpose),
                        literal("bench-") + cast(Payer.id, String),
                        _typed(now - timedelta(days=10), AccessToken.created_at),
                        case(
                            (band < EXPIRED, _typed(now - 72 * HOUR, AccessToken.expires_at)),
                            else_=_typed(now + timedelta(days=4), AccessToken.expires_at),
                        ),
                    ).where(with_login, invited),
                )
            )
            failed = band.between(LOCKED, FAILED - 1)
            connection.execute(
                insert(OutboxEmail).from_select(
                    [*EMAIL_COLUMNS],
                    select(
                        _typed(EmailKind.WELCOME, OutboxEmail.kind),
                        Payer.id,
                        Payer.email,
                        Payer.name,
                        literal("Welcome"),
                        literal("<bench-") + cast(Payer.id, String) + literal("@bench>"),
                        case(
                            (failed, _typed(EmailStatus.FAILED, OutboxEmail.status)),
                            else_=_typed(EmailStatus.SENT, OutboxEmail.status),
                        ),
                        literal(1),
                        _typed(now - timedelta(days=10), OutboxEmail.next_attempt_at),
                        literal("bench"),
                        _typed(now - timedelta(days=10), OutboxEmail.created_at),
                        case(
                            (failed, None),
                            else_=_typed(now - timedelta(days=10), OutboxEmail.sent_at),
                        ),
                        case((failed, literal("550 no such mailbox")), else_=None),
                    ).where(with_login),
                )
            )
            if db.engine.dialect.name == "postgresql":
                for table in ("portal_login", "access_token", "outbox_email"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                connection.exec_driver_sql("ANALYZE")
            return int(connection.scalar(select(func.count()).select_from(PortalLogin)) or 0)
    finally:
        db.dispose()


if __name__ == "__main__":
    import sys

    print(add_login_states(sys.argv[1]))
