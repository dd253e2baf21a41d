"""Settings, read from ``CLIENTPAY_*`` environment variables and an optional TOML file.

Environment variables win over the file; the file wins over the defaults. Defaults need no
file at all: the database is an SQLite file in the user data directory.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from clientpay_tui.early_settings import (
    DEFAULT_FIRM_NAME,
    ENV_PREFIX,
    data_dir,
    default_config_file,
)
from clientpay_tui.errors import ConfigError

MINUTES_PER_WEEK = 7 * 24 * 60
MINUTES_PER_DAY = 24 * 60
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")
"""The backends and drivers the app is built and tested for (``postgresql://`` means psycopg
in SQLAlchemy 2.1)."""
LOOPBACK_HOSTS = ("localhost", "::1")


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'clientpay.db'}"


class Settings(BaseSettings):
    """Everything the app, the CLI and the mail sender can be configured with."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    database_url: str = Field(default_factory=default_database_url)
    """SQLAlchemy URL. ``sqlite:///path`` (embedded) or ``postgresql+psycopg://…``."""

    smtp_host: str = "localhost"
    """Mail server that accepts the portal's emails."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["starttls", "none", "tls"] = "starttls"
    """``starttls`` upgrades a plain connection, ``tls`` connects with TLS, ``none`` neither."""
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(default=10.0, gt=0, le=600, allow_inf_nan=False)
    """Seconds allowed for each socket operation with the mail server (at most 10 minutes)."""
    smtp_ca_file: Path | None = None
    """PEM file of extra CA certificates to trust for the mail server's TLS certificate (a
    firm's own CA, or a self-signed relay); the system's trusted CAs stay trusted."""
    mail_from: str = "ClientPay <no-reply@localhost>"
    portal_url: str = "https://portal.example.com"
    """Base of the payer portal; links are ``{portal_url}/welcome?token=…``. An absolute
    ``https://`` URL (``http://`` only on a loopback host), without query or fragment."""
    firm_name: str = DEFAULT_FIRM_NAME

    welcome_token_days: float = Field(default=7, gt=0, le=90, allow_inf_nan=False)
    """How long a welcome (invitation) link stays valid (at most 90 days)."""
    invite_reminder_days: int = Field(default=3, ge=0, le=60)
    """An invitation not accepted this many days after its welcome email gets one reminder
    with a fresh link (the old one is revoked), sent by whichever mail sender runs (an app
    session or ``clientpay-tui worker``). 0: no reminders; at most 60 days."""
    reset_token_hours: float = Field(default=1, gt=0, le=72, allow_inf_nan=False)
    """How long a password-reset link stays valid (at most 72 hours)."""
    resend_confirm_seconds: int = Field(default=60, ge=0, le=86_400)
    """A second email to one payer within this window asks again before it goes (at most a
    day)."""
    email_limit_count: int = Field(default=5, ge=1, le=1000)
    """At most this many welcome or reset emails to one payer …"""
    email_limit_minutes: int = Field(default=30, ge=1, le=MINUTES_PER_WEEK)
    """… within this many minutes (at most a week)."""
    lockout_attempts: int = Field(default=5, ge=1, le=1000)
    """Failed sign-ins within ``lockout_window_minutes`` that lock an account."""
    lockout_window_minutes: int = Field(default=15, ge=1, le=MINUTES_PER_WEEK)
    lockout_minutes: int = Field(default=15, ge=1, le=MINUTES_PER_WEEK)
    """How long a locked account stays locked (at most a week; staff can unlock sooner)."""

    mouse: bool = True
    """Capture the mouse. Turn off so that text can be selected in the terminal over SSH."""
    idle_sign_out_minutes: int = Field(default=30, ge=0, le=MINUTES_PER_DAY)
    """Sign staff out to the sign-in screen after this many minutes without a key press (or a
    mouse event, with ``mouse`` on); unsaved edits are discarded. 0: never; at most a day."""
    ssh_key_sign_in: bool = False
    """Sign a staff member in without a password when sshd verified one of the public keys
    linked to their account (``clientpay-tui staff key add``) for this SSH login. Only for a
    dedicated account whose logins run nothing but the app, with ``ExposeAuthInfo yes``: see
    the README's SSH section and SECURITY.md. An idle sign-out then ends the SSH session."""

    portal_host: str = "127.0.0.1"
    """Address ``clientpay-tui portal`` listens on (put a TLS reverse proxy in front)."""
    portal_port: int = Field(default=8000, ge=1, le=65535)
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    """Reverse proxies (addresses or CIDR networks) whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` the portal believes; from anyone else those headers are ignored."""
    portal_mfa: Literal["off", "email"] = "off"
    """``email``: after the password, a payer enters a 6-digit code emailed to them (staff can
    exempt one payer)."""

    payment_gateway: str = "none"
    """Who takes the portal's payments: ``none`` (payers see and manage nothing that charges),
    ``test`` (the test gateway: documented test cards, no money moves; the demo's choice) or
    a real processor's adapter as ``package.module:factory``."""

    @field_validator("portal_url")
    @classmethod
    def _portal_url(cls, value: str) -> str:
        return check_portal_url(value)

    @field_validator("payment_gateway")
    @classmethod
    def _gateway_name(cls, value: str) -> str:
        module, colon, factory = value.partition(":")
        if value in ("none", "test") or (colon and module and factory.isidentifier()):
            return value
        raise ValueError('must be "none", "test" or "package.module:factory"')

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        scheme, separator, _rest = value.partition("://")
        if not separator or scheme.lower() not in DATABASE_SCHEMES:
            shown = scheme[:40] if separator else value[:40]
            raise ValueError(
                f"must be a sqlite:///PATH or postgresql+psycopg://… URL, not {shown!r} "
                "(PostgreSQL only through psycopg)"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def check_portal_url(value: str) -> str:
    """The portal's base URL without its trailing slash, or ``ValueError`` saying what is wrong:
    absolute http(s) with a host, no query or fragment, https unless the host is loopback."""
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme.lower() not in ("https", "http"):
        raise ValueError("must start with https:// or http://")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("must name a host, as in https://portal.example.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user name or password")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError("must not have a query (?…) or fragment (#…): links add their own")
    if parts.scheme.lower() == "http" and not _is_loopback(host):
        raise ValueError("must use https:// (http:// only for localhost or 127.0.0.1)")
    return value.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, turning any invalid value into one clear :class:`ConfigError`.

    Args:
        config_file: TOML file to read; ``None`` reads the default file if it exists.
        **overrides: values that win over every source (used by ``demo`` and tests).
    """
    path = config_file if config_file is not None else default_config_file()
    if config_file is not None and not path.exists():
        raise ConfigError(f"config file not found: {path}")
    toml_file = _readable_file(path)

    class _Settings(Settings):
        model_config = SettingsConfigDict(
            env_prefix=ENV_PREFIX, extra="forbid", toml_file=toml_file
        )

    try:
        return _Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or "settings"
        env = f"CLIENTPAY_{name.upper()}"
        raise ConfigError(f"invalid setting {name} ({env}): {first['msg']}") from None
    except ValueError as exc:  # a TOML file that does not parse
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except OSError as exc:  # changed since _readable_file looked at it
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def _readable_file(path: Path) -> Path | None:
    """``path`` if it is a file that can be read, ``None`` if there is nothing there; a
    :class:`ConfigError` for anything else (a directory, a FIFO, no permission, a read error),
    rather than silently running on the defaults."""
    if not os.path.lexists(path):
        return None
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(f"cannot read config file {path}: not a regular file")
        path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    return path
