"""Settings, read from ``CLIENTPAY_*`` environment variables and an optional TOML file.

Environment variables win over the file; the file wins over the defaults. Defaults need no
file at all: the database is an SQLite file in the user data directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

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
    smtp_timeout: float = Field(default=10.0, gt=0)
    """Seconds allowed for each socket operation with the mail server."""
    smtp_ca_file: Path | None = None
    """PEM file of extra CA certificates to trust for the mail server's TLS certificate (a
    firm's own CA, or a self-signed relay); the system's trusted CAs stay trusted."""
    mail_from: str = "ClientPay <no-reply@localhost>"
    portal_url: str = "https://portal.example.com"
    """Base of the payer portal; links are ``{portal_url}/welcome?token=…``."""
    firm_name: str = DEFAULT_FIRM_NAME

    welcome_token_days: float = Field(default=7, gt=0)
    """How long a welcome (invitation) link stays valid."""
    reset_token_hours: float = Field(default=1, gt=0)
    """How long a password-reset link stays valid."""
    resend_confirm_seconds: int = Field(default=60, ge=0)
    """A second email to one payer within this window asks again before it goes."""
    email_limit_count: int = Field(default=5, ge=1)
    """At most this many welcome or reset emails to one payer …"""
    email_limit_minutes: int = Field(default=30, ge=1)
    """… within this many minutes."""
    lockout_attempts: int = Field(default=5, ge=1)
    """Failed sign-ins within ``lockout_window_minutes`` that lock an account."""
    lockout_window_minutes: int = Field(default=15, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    """How long a locked account stays locked."""

    mouse: bool = True
    """Capture the mouse. Turn off so that text can be selected in the terminal over SSH."""

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
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")

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
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
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


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, turning any invalid value into one clear :class:`ConfigError`.

    Args:
        config_file: TOML file to read; ``None`` reads the default file if it exists.
        **overrides: values that win over every source (used by ``demo`` and tests).
    """
    path = config_file if config_file is not None else default_config_file()
    if config_file is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    toml_file = path if path.is_file() else None

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
