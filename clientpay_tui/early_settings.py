"""Where the settings live, and the two the first frame needs, read without pydantic.

``clientpay-tui`` paints its sign-in screen before pydantic-settings loads (about 90 ms of
imports, a third of a cold start): the firm name (in the titles), ``mouse`` (whether the
terminal's mouse is captured, fixed when the app starts) and ``ssh_key_sign_in`` (whether the
SSH login's key is read, while sshd still has it) come from here, and the validated
:class:`~clientpay_tui.config.Settings` load in a thread behind that first frame. For every
value ``Settings`` accepts the two agree (a test checks); a value it refuses ends the app with
its one-line error, whatever was read here.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "clientpay-tui"
ENV_PREFIX = "CLIENTPAY_"
DEFAULT_FIRM_NAME = "Your firm"

# pydantic's spellings of a boolean in text (any case).
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def data_dir() -> Path:
    """The per-user directory that holds the default database and the demo's files."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    """Where the TOML configuration is looked for when ``--config`` is not given."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


@dataclass(frozen=True)
class EarlySettings:
    firm_name: str = DEFAULT_FIRM_NAME
    mouse: bool = True
    ssh_key_sign_in: bool = False


def read_early_settings(config_file: Path | None = None) -> EarlySettings:
    """The firm name and ``mouse`` as :func:`~clientpay_tui.config.load_settings` would read
    them (environment over file over default); defaults for anything it would refuse."""
    file_values = _read_toml(config_file if config_file is not None else default_config_file())
    # pydantic-settings matches variable names regardless of case.
    env = {key.upper(): value for key, value in os.environ.items()}

    def raw(name: str) -> object:
        if f"{ENV_PREFIX}{name.upper()}" in env:
            return env[f"{ENV_PREFIX}{name.upper()}"]
        return file_values.get(name)

    firm_name = raw("firm_name")
    return EarlySettings(
        firm_name=firm_name if isinstance(firm_name, str) else DEFAULT_FIRM_NAME,
        mouse=_boolean(raw("mouse"), default=True),
        ssh_key_sign_in=_boolean(raw("ssh_key_sign_in"), default=False),
    )


def _read_toml(path: Path) -> dict[str, object]:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return {}  # a directory or a FIFO (which would block): refused by load_settings
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _boolean(value: object, *, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    return default
