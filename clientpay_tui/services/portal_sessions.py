"""Ending a portal login's web sessions, from wherever its password or ownership changes.

The portal (``clientpay_tui.portal``) keeps its browser sessions in ``portal_session``; staff
actions in this layer (deleting or moving a login) must end them too, in their own
transaction, so the function lives here where both can call it.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from clientpay_tui.db.models import PortalSession


def end_login_sessions(session: Session, login_id: int) -> int:
    """Delete every web session of ``login_id`` (signed in or half-way). Returns how many."""
    result = session.execute(
        delete(PortalSession)
        .where(PortalSession.login_id == login_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
