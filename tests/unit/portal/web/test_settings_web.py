"""The portal's settings: defaults, the environment's spelling, one-line errors."""

from __future__ import annotations

import ipaddress

import pytest

from clientpay_tui.config import load_settings
from clientpay_tui.errors import ConfigError


def test_defaults() -> None:
    settings = load_settings()
    assert (settings.portal_host, settings.portal_port) == ("127.0.0.1", 8000)
    assert settings.trusted_proxies == [] and settings.portal_mfa == "off"


def test_trusted_proxies_from_the_environment_as_json(monkeypatch) -> None:
    monkeypatch.setenv("CLIENTPAY_TRUSTED_PROXIES", '["10.0.0.2", "192.168.0.0/16"]')
    monkeypatch.setenv("CLIENTPAY_PORTAL_MFA", "email")
    settings = load_settings()
    assert settings.trusted_proxies == [
        ipaddress.ip_network("10.0.0.2/32"),
        ipaddress.ip_network("192.168.0.0/16"),
    ]
    assert settings.portal_mfa == "email"


@pytest.mark.parametrize(
    ("name", "value"),
    [("trusted_proxies", ["not-an-address"]), ("portal_mfa", "sms"), ("portal_port", 0)],
)
def test_a_bad_value_is_one_line_naming_the_setting(name, value) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(**{name: value})
