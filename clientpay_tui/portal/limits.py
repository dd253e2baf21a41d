"""Rate limits on the portal's public forms, per IP address and per account, in the database.

Every portal process behind a proxy shares them. A bucket is an action and who does it
(``sign_in:ip:203.0.113.9``, ``sign_in:acct:<SHA-256 of the address>``: the table never holds
an address in clear). Each attempt is one row; an attempt is refused when its bucket already
holds ``limit`` rows within the window, and the answer says when to come back.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from clientpay_tui.db.models import PortalRateEvent
from clientpay_tui.errors import RateLimited
from clientpay_tui.portal.common import PortalPart, email_key


@dataclass(frozen=True)
class Limit:
    action: str
    limit: int
    minutes: int


SIGN_IN_IP = Limit("sign_in", 30, 15)
SIGN_IN_ACCOUNT = Limit("sign_in", 10, 15)
FORGOT_IP = Limit("forgot", 10, 15)
FORGOT_ACCOUNT = Limit("forgot", 5, 30)
LINK_IP = Limit("link", 20, 15)
MFA_IP = Limit("mfa", 20, 15)
MFA_ACCOUNT = Limit("mfa", 10, 15)
PASSWORD_CHANGE_ACCOUNT = Limit("password_change", 10, 15)
LONGEST_MINUTES = 30


def try_again_message(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many attempts. Try again in {minutes} {unit}."


def ip_bucket(limit: Limit, address: str) -> tuple[Limit, str]:
    return limit, f"{limit.action}:ip:{address[:60]}"


def account_bucket(limit: Limit, who: str | int) -> tuple[Limit, str]:
    """A bucket per account: a login id, or an address as typed (hashed, so that the table
    holds no addresses, and keyed the way logins are, so case does not dodge the limit)."""
    if isinstance(who, int):
        return limit, f"{limit.action}:login:{who}"
    key = email_key(who) or who.strip().casefold()
    return (
        limit,
        f"{limit.action}:acct:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()}",
    )


class PortalLimits(PortalPart):
    def hit(self, *buckets: tuple[Limit, str]) -> None:
        """Count one attempt in each bucket, or refuse it when any bucket is full.

        A refused attempt is not counted, so that waiting out the window always works.

        Raises:
            RateLimited: "Too many attempts. Try again in N minutes."
        """
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            wait = 0.0
            for limit, bucket in buckets:
                since = now - timedelta(minutes=limit.minutes)
                count, oldest = session.execute(
                    select(func.count(), func.min(PortalRateEvent.at)).where(
                        PortalRateEvent.bucket == bucket, PortalRateEvent.at > since
                    )
                ).one()
                if count >= limit.limit and oldest is not None:
                    free_at = oldest + timedelta(minutes=limit.minutes)
                    wait = max(wait, (free_at - now).total_seconds())
            if wait > 0:
                raise RateLimited(try_again_message(max(1, math.ceil(wait / 60))))
            session.execute(
                delete(PortalRateEvent).where(
                    PortalRateEvent.at <= now - timedelta(minutes=LONGEST_MINUTES)
                )
            )
            for _limit, bucket in buckets:
                session.add(PortalRateEvent(bucket=bucket, at=now))
