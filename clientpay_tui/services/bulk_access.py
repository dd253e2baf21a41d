"""Bulk login access from the payer list: grant access to many payers, or re-send every expired
invitation among them.

A run is planned first (:meth:`BulkAccessService.plan`): who will get an email, how many
addresses that is, and who is skipped and why, for the confirm dialog. Then each payer is done
on their own (:meth:`BulkAccessService.run`) through the one-payer service functions
(:meth:`AccessService.grant`, :meth:`AccessService.send_reset`): one transaction and one outbox
email each, with the same roles, limits and re-send window. What changed since the plan (an
email sent meanwhile, a payer deleted) skips that payer with the service's own reason.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import OutboxEmail, Payer, PortalLogin
from clientpay_tui.errors import AccessStateError, NotFound, RateLimited, RecentlySent
from clientpay_tui.services.access import AccessService
from clientpay_tui.services.access_emails import email_budget
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.payer_search import access_status, last_access_emails
from clientpay_tui.services.payer_status import (
    AccessStatus,
    StatusFilter,
    invite_expired,
    welcome_expiries,
)
from clientpay_tui.services.payers import PayerService

CHUNK = 500
"""Payers read per batch of queries while planning."""


class BulkAction(enum.StrEnum):
    GRANT = "grant"
    """Grant login access (a welcome email, or a notice where the address has a login)."""
    RESEND = "resend"
    """Re-send the welcome email of every expired invitation."""


@dataclass(frozen=True)
class PayerQuery:
    """What the payer list shows: its search text and status filter."""

    text: str = ""
    status: StatusFilter = StatusFilter.ALL


@dataclass(frozen=True)
class PayerSelection:
    """Payers picked one by one, or every payer a query finds but some."""

    payer_ids: frozenset[int] = frozenset()
    matching: PayerQuery | None = None
    excluded: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self.matching is None and not self.payer_ids


@dataclass(frozen=True)
class Skipped:
    payer_id: int
    name: str
    email: str | None
    reason: str


@dataclass(frozen=True)
class BulkPlan:
    action: BulkAction
    selected: int
    targets: tuple[tuple[int, str], ...]
    """``(payer id, name)`` of every payer to email, in the list's order."""
    addresses: int
    """Distinct email addresses among the targets (records that share one share a login)."""
    skipped: tuple[Skipped, ...]

    def skipped_by_reason(self) -> list[tuple[str, int]]:
        """Each reason with how many payers it skips, most first."""
        return Counter(s.reason for s in self.skipped).most_common()


@dataclass(frozen=True)
class BulkProgress:
    """One payer done (or skipped), for a progress bar."""

    done: int
    total: int
    name: str
    skipped: str | None
    """Why this payer was skipped after all, or ``None`` when their email was queued."""


@dataclass
class BulkResult:
    action: BulkAction
    emailed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    stopped: bool = False
    """Stopped before the end (the rest of the plan was not done)."""
    not_done: int = 0
    seconds: float = 0.0


SKIP_NO_EMAIL = "no email address"
SKIP_HAS_ACCESS = "already has login access"
SKIP_NO_LOGIN = "no login (grant access instead)"
SKIP_RECENT = "emailed under a minute ago (open the payer to send again)"
NOT_EXPIRED = {
    AccessStatus.INVITED: "invitation still valid",
    AccessStatus.ACTIVE: "already accepted (active)",
    AccessStatus.LOCKED: "login locked (open the payer)",
    AccessStatus.EMAIL_FAILED: "latest email failed (check the address)",
}


class BulkAccessService:
    def __init__(self, ctx: ServiceContext, payers: PayerService, access: AccessService) -> None:
        self.ctx = ctx
        self.payers = payers
        self.access = access

    def selected_ids(self, actor: Actor, selection: PayerSelection) -> list[int]:
        """The selected payers' ids, in the list's order (a query's matches on every page)."""
        if selection.matching is None:
            return sorted(selection.payer_ids)
        query = selection.matching
        ids = self.payers.matching_ids(actor, query.text, query.status)
        return [payer_id for payer_id in ids if payer_id not in selection.excluded]

    def plan(self, actor: Actor, action: BulkAction, selection: PayerSelection) -> BulkPlan:
        """Who of ``selection`` gets an email, and who is skipped and why.

        Raises:
            PermissionDenied: the actor may not do ``action`` at all.
        """
        ids = self.selected_ids(actor, selection)
        now = self.ctx.clock()
        targets: list[tuple[int, str]] = []
        addresses: set[str] = set()
        skipped: list[Skipped] = []
        with self.ctx.db.read() as session:
            require(session, actor, _permission(action))
            for chunk in _chunks(ids):
                for payer, reason in self._check(session, action, chunk, now):
                    if reason is None:
                        targets.append((payer.id, payer.name))
                        addresses.add(payer.email_key or "")
                    else:
                        skipped.append(Skipped(payer.id, payer.name, payer.email, reason))
        return BulkPlan(action, len(ids), tuple(targets), len(addresses), tuple(skipped))

    def run(
        self,
        actor: Actor,
        plan: BulkPlan,
        on_progress: Callable[[BulkProgress], object] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> BulkResult:
        """Email each target of ``plan`` in turn, each in its own transaction.

        Args:
            on_progress: called after each payer (from the calling thread).
            should_stop: asked before each payer; ``True`` ends the run there.
        """
        started = time.perf_counter()
        result = BulkResult(plan.action, skipped=list(plan.skipped))
        total = len(plan.targets)
        for done, (payer_id, name) in enumerate(plan.targets, 1):
            if should_stop is not None and should_stop():
                result.stopped, result.not_done = True, total - done + 1
                break
            reason = self._one(actor, plan.action, payer_id)
            if reason is None:
                result.emailed += 1
            else:
                result.skipped.append(Skipped(payer_id, name, None, reason))
            if on_progress is not None:
                on_progress(BulkProgress(done, total, name, reason))
        result.seconds = time.perf_counter() - started
        return result

    # -- pieces ------------------------------------------------------------------------------

    def _one(self, actor: Actor, action: BulkAction, payer_id: int) -> str | None:
        """Do one payer through the one-payer service; the reason it was skipped, if it was."""
        try:
            if action == BulkAction.GRANT:
                self.access.grant(actor, payer_id)
            else:
                self.access.send_reset(actor, payer_id, only_expired_invitation=True)
        except RecentlySent:
            return SKIP_RECENT
        except (AccessStateError, NotFound, RateLimited) as refused:
            return str(refused)
        return None

    def _check(
        self, session: Session, action: BulkAction, ids: Sequence[int], now: datetime
    ) -> Iterator[tuple[Payer, str | None]]:
        payers = {p.id: p for p in session.scalars(select(Payer).where(Payer.id.in_(ids)))}
        emailed = set(
            session.scalars(
                select(OutboxEmail.payer_id).where(OutboxEmail.payer_id.in_(ids)).distinct()
            )
        )
        resend = action == BulkAction.RESEND
        states = _invitation_states(session, list(payers.values()), now) if resend else {}
        for payer_id in ids:
            payer = payers.get(payer_id)
            if payer is None:
                continue  # deleted since it was selected
            reason = None
            if not payer.email:
                reason = SKIP_NO_EMAIL
            elif action == BulkAction.GRANT and payer.login_id is not None:
                reason = SKIP_HAS_ACCESS
            elif action == BulkAction.RESEND and payer.login_id is None:
                reason = SKIP_NO_LOGIN
            elif action == BulkAction.RESEND and not states[payer_id][1]:
                reason = NOT_EXPIRED.get(states[payer_id][0], "not an expired invitation")
            elif payer_id in emailed:
                reason = _over_budget(session, self.ctx, payer_id, now)
            yield payer, reason


def _permission(action: BulkAction) -> Permission:
    return Permission.GRANT_ACCESS if action == BulkAction.GRANT else Permission.SEND_RESET


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _over_budget(session: Session, ctx: ServiceContext, payer_id: int, now: datetime) -> str | None:
    """Why the email limit (or the re-send window) holds this payer's email back, if it does:
    the one-payer flow's own budget (:func:`email_budget`)."""
    budget = email_budget(session, ctx.settings, payer_id, now)
    if budget.next_allowed_at is not None:
        return (
            f"over the email limit ({budget.sent_in_window} in {budget.window_minutes} min; "
            f"next at {budget.next_allowed_at:%H:%M} UTC)"
        )
    if budget.needs_confirm:
        return SKIP_RECENT
    return None


def _invitation_states(
    session: Session, payers: Sequence[Payer], now: datetime
) -> dict[int, tuple[AccessStatus, bool]]:
    """Each payer's status and whether it is an expired invitation, as the details screen
    reads them (:func:`access_status`, :func:`invite_expired`)."""
    login_ids = {p.login_id for p in payers if p.login_id is not None}
    logins = {
        login.id: login
        for login in session.scalars(select(PortalLogin).where(PortalLogin.id.in_(login_ids)))
    }
    expires = welcome_expiries(session, login_ids)
    last_email = last_access_emails(session, [p.id for p in payers])
    states = {}
    for payer in payers:
        login = logins.get(payer.login_id) if payer.login_id is not None else None
        status = access_status(login, last_email.get(payer.id), now)
        link = expires.get(payer.login_id) if payer.login_id is not None else None
        states[payer.id] = (status, invite_expired(status, link, now))
    return states
