"""The data model (SQLAlchemy 2 typed declarative).

Money is integer cents; times are aware UTC (:class:`UTCDateTime`). Every searchable text has a
``*_key`` twin holding its casefolded form, written by Python so that SQLite and PostgreSQL
compare and index exactly the same strings.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clientpay_tui.db import payment_models  # noqa: F401  (its tables join Base.metadata)
from clientpay_tui.db.base import Base
from clientpay_tui.enums import (  # re-exported: the columns' values
    EmailKind,
    EmailStatus,
    IntegrationName,
    InvoiceSource,
    LoginStatus,
    Role,
    TokenPurpose,
    WebStage,
)


def key_string(length: int) -> String:
    """A string column for casefolded search keys, compared byte-wise on both backends.

    PostgreSQL's default collation would make prefix ranges locale-dependent; ``C`` makes
    ``key >= 'ab' AND key < 'ac'`` exact and index-friendly, as it is on SQLite.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "staff_role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StaffSshKey(Base):
    """A public key that signs a staff member in when sshd verified it for their SSH login
    (``ssh_key_sign_in``). Found by its fingerprint; the key itself is kept for the listing."""

    __tablename__ = "staff_ssh_key"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    """``SHA256:`` and the unpadded base64 of the key blob's SHA-256 (as ssh-keygen -l)."""
    key_type: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(Text)
    """The key blob in base64, as in a ``.pub`` file."""
    comment: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class PortalLogin(Base):
    """One payer-portal account. One email address, possibly many payer records.

    Its ids are never reused (``AUTOINCREMENT`` on SQLite, an identity on PostgreSQL): a web
    session or link that outlives a deleted login must not find a newer login under its id.
    """

    __tablename__ = "portal_login"
    __table_args__ = (
        Index("ix_portal_login_locked_until", "locked_until"),
        Index("ix_portal_login_status", "status", "locked_until"),  # counted from the index
        # The reminder scan: invitations not accepted and not yet reminded.
        Index("ix_portal_login_reminder", "status", "reminder_sent_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(key_string(320), unique=True)
    status: Mapped[LoginStatus] = mapped_column(_enum(LoginStatus, "login_status"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    """When the one reminder of this invitation was queued (set once, by a conditional
    update, so that senders running at once queue it once)."""

    payers: Mapped[list[Payer]] = relationship(back_populates="login")
    tokens: Mapped[list[AccessToken]] = relationship(
        back_populates="login", cascade="all, delete-orphan", passive_deletes=True
    )


class Payer(Base):
    __tablename__ = "payer"
    __table_args__ = (
        Index("ix_payer_sort", "sort_name", "id"),
        Index("ix_payer_email_key", "email_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sort_name: Mapped[str] = mapped_column(key_string(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(key_string(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    login_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_login.id", ondelete="SET NULL"), index=True
    )
    mfa_exempt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Staff let this payer sign in to the portal without the emailed code."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    login: Mapped[PortalLogin | None] = relationship(back_populates="payers")

    __mapper_args__ = {"version_id_col": version}


class AccessToken(Base):
    """A single-use link. Only the SHA-256 of the token is stored."""

    __tablename__ = "access_token"
    __table_args__ = (
        Index("ix_access_token_login_purpose", "login_id", "purpose"),
        # A login's live links, read from the index alone (the status filter's test).
        Index("ix_access_token_link", "login_id", "purpose", "used_at", "revoked_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("portal_login.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    login: Mapped[PortalLogin] = relationship(back_populates="tokens")


class PortalSession(Base):
    """A payer portal browser session, held server-side so that it can be ended at once.

    The cookie carries 256 random bits; only their SHA-256 is stored here, so a database
    reader cannot take over a session. Deleting the login deletes its sessions.
    """

    __tablename__ = "portal_session"
    __table_args__ = (Index("ix_portal_session_last_seen", "last_seen_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the cookie value."""
    login_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_login.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[WebStage] = mapped_column(_enum(WebStage, "web_stage"))
    csrf_secret: Mapped[str] = mapped_column(String(64))
    link_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    """While ``stage`` is ``link``: the SHA-256 of the exchanged link's token."""
    link_purpose: Mapped[TokenPurpose | None] = mapped_column(
        _enum(TokenPurpose, "web_link_purpose")
    )
    mfa_code_hash: Mapped[str | None] = mapped_column(String(64))
    """While ``stage`` is ``mfa``: the SHA-256 of the emailed code (cleared once used)."""
    mfa_expires_at: Mapped[datetime | None]
    mfa_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    """When this id was issued: a new id comes with each sign-in, so the absolute limit
    counts from the sign-in."""
    last_seen_at: Mapped[datetime]


class PortalRateEvent(Base):
    """One counted attempt in a rate-limit bucket (per IP address or per account)."""

    __tablename__ = "portal_rate_event"
    __table_args__ = (Index("ix_portal_rate_event_bucket", "bucket", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(100))
    """``<action>:ip:<address>`` or ``<action>:acct:<sha-256 of the address>``."""
    at: Mapped[datetime] = mapped_column(index=True)


class Client(Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    number_key: Mapped[str] = mapped_column(key_string(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(key_string(200), index=True)


class Matter(Base):
    __tablename__ = "matter"
    __table_args__ = (
        UniqueConstraint("client_id", "number_key"),
        Index("ix_matter_number_key", "number_key"),
        Index("ix_matter_description_key", "description_key"),  # the description sort
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    number: Mapped[str] = mapped_column(String(40))
    number_key: Mapped[str] = mapped_column(key_string(40))
    description: Mapped[str] = mapped_column(String(500))
    description_key: Mapped[str] = mapped_column(key_string(500))

    client: Mapped[Client] = relationship()


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_client", "client_id", "invoice_date"),
        Index("ix_invoice_matter", "matter_id", "invoice_date"),
        Index("ix_invoice_date", "invoice_date", "id"),
        # The add-associations screen's sorts: with many matches a page is found by walking
        # the sort order (50 ms to 1.6 s a page at 1,000,000 invoices without these, 1-12 ms
        # with). Not for filtering on SQLite: see candidate_conditions.
        Index("ix_invoice_amount", "amount_cents", "id"),
        Index("ix_invoice_balance", "balance_cents", "id"),
        Index("ix_invoice_source", "source", "id"),
        CheckConstraint("balance_cents >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"))
    number: Mapped[str] = mapped_column(String(40))
    number_key: Mapped[str] = mapped_column(key_string(40), unique=True)
    invoice_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[InvoiceSource] = mapped_column(_enum(InvoiceSource, "invoice_source"))

    client: Mapped[Client] = relationship()
    matter: Mapped[Matter | None] = relationship()


class Association(Base):
    """What a payer sees: a whole client, a matter (with later invoices), or one invoice."""

    __tablename__ = "association"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN client_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN matter_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN invoice_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="exactly_one_target",
        ),
        UniqueConstraint("payer_id", "client_id"),
        UniqueConstraint("payer_id", "matter_id"),
        UniqueConstraint("payer_id", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Integration(Base):
    __tablename__ = "integration"

    name: Mapped[IntegrationName] = mapped_column(
        _enum(IntegrationName, "integration_name"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Who did what, when. ``payer_id`` has no foreign key so history outlives its subject."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_payer", "payer_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    payer_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(Text)


class OutboxEmail(Base):
    """A message queued in the same transaction as the change that caused it."""

    __tablename__ = "outbox_email"
    __table_args__ = (
        Index("ix_outbox_email_due", "status", "next_attempt_at"),
        Index("ix_outbox_email_payer", "payer_id", "created_at"),
        Index("ix_outbox_email_created", "created_at", "id"),  # the Mail screen's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EmailKind] = mapped_column(_enum(EmailKind, "email_kind"))
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[EmailStatus] = mapped_column(_enum(EmailStatus, "email_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
