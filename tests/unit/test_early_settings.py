"""The first frame's settings (firm name, mouse), read without pydantic, agree with the
validated settings for every value those accept; anything else falls back to a default and
is refused, with one line, by the validated load behind the first frame."""

from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientpay_tui.config import load_settings
from clientpay_tui.early_settings import EarlySettings, read_early_settings
from clientpay_tui.errors import ConfigError

BOOLEAN_SPELLINGS = ["true", "False", "1", "0", "on", "OFF", "yes", "No", "t", "F", "y", "n"]
NAMES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)


@pytest.fixture(autouse=True)
def no_settings_in_environment(monkeypatch, tmp_path):
    for name in (
        "CLIENTPAY_FIRM_NAME",
        "CLIENTPAY_MOUSE",
        "clientpay_mouse",
        "CLIENTPAY_SSH_KEY_SIGN_IN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))


def toml_string(value: str) -> str:
    return '"' + "".join(f"\\U{ord(c):08x}" for c in value) + '"'


def both(config_file: Path | None) -> tuple[EarlySettings, EarlySettings]:
    full = load_settings(config_file)
    return read_early_settings(config_file), EarlySettings(
        full.firm_name, full.mouse, full.ssh_key_sign_in
    )


def test_defaults_without_file_or_environment():
    early, full = both(None)
    assert early == full == EarlySettings()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file_name=st.none() | NAMES,
    env_name=st.none() | NAMES,
    file_mouse=st.none() | st.booleans(),
    env_mouse=st.none() | st.sampled_from(BOOLEAN_SPELLINGS),
    file_key=st.none() | st.booleans(),
    env_key=st.none() | st.sampled_from(BOOLEAN_SPELLINGS),
)
def test_environment_over_file_over_default_as_the_validated_settings(
    monkeypatch, tmp_path, file_name, env_name, file_mouse, env_mouse, file_key, env_key
):
    lines = []
    if file_name is not None:
        lines.append(f"firm_name = {toml_string(file_name)}")
    if file_mouse is not None:
        lines.append(f"mouse = {str(file_mouse).lower()}")
    if file_key is not None:
        lines.append(f"ssh_key_sign_in = {str(file_key).lower()}")
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert tomllib.loads(config.read_text(encoding="utf-8")).get("firm_name") == file_name
    with monkeypatch.context() as env:
        if env_name is not None:
            env.setenv("CLIENTPAY_FIRM_NAME", env_name)
        if env_mouse is not None:
            env.setenv("CLIENTPAY_MOUSE", env_mouse)
        if env_key is not None:
            env.setenv("CLIENTPAY_SSH_KEY_SIGN_IN", env_key)
        early, full = both(config)
    assert early == full


def test_variable_names_match_regardless_of_case(monkeypatch):
    monkeypatch.setenv("clientpay_mouse", "false")
    monkeypatch.setenv("Clientpay_Firm_Name", "Lower & Co")
    early, full = both(None)
    assert early == full == EarlySettings("Lower & Co", mouse=False)


@pytest.mark.parametrize(
    ("toml", "env"),
    [
        ("mouse = 'sometimes'\n", {}),
        ("firm_name = 3\n", {}),
        ("this is not toml\n", {}),
        ("", {"CLIENTPAY_MOUSE": "maybe"}),
    ],
)
def test_what_the_validated_settings_refuse_reads_as_defaults_here(
    monkeypatch, tmp_path, toml, env
):
    config = tmp_path / "config.toml"
    config.write_text(toml, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert read_early_settings(config) == EarlySettings()
    with pytest.raises(ConfigError):
        load_settings(config)


def test_the_default_config_file_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "clientpay-tui").mkdir()
    (tmp_path / "clientpay-tui" / "config.toml").write_text(
        'firm_name = "Default File LLP"\nmouse = false\n', encoding="utf-8"
    )
    early, full = both(None)
    assert early == full == EarlySettings("Default File LLP", mouse=False)


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_default_config_file_that_is_not_a_file_reads_as_defaults_and_is_refused(
    monkeypatch, tmp_path, kind
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "clientpay-tui").mkdir()
    config = tmp_path / "clientpay-tui" / "config.toml"
    if kind == "directory":
        config.mkdir()
    else:
        os.mkfifo(config)  # opening it for reading would wait for a writer forever
    found: list[EarlySettings] = []
    reader = threading.Thread(target=lambda: found.append(read_early_settings()), daemon=True)
    reader.start()
    reader.join(10)
    assert found == [EarlySettings()], "reading the first frame's settings blocked"
    with pytest.raises(ConfigError, match=r"cannot read config file .*: not a regular file"):
        load_settings()
