"""``clientpay-tui staff …``: staff accounts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services.staff import parse_role


@click.group("staff")
def staff_group() -> None:
    """Staff accounts (admin)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise ValidationFailed("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise ValidationFailed("no terminal to ask for a password: use --password-stdin")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@staff_group.command("add")
@click.argument("name")
@click.option("--role", required=True, help="agent, staff or admin")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add(obj: CliContext, name: str, role: str, password_stdin: bool) -> None:
    """Add a staff member who signs in as NAME."""
    parsed = parse_role(role)
    password = _read_password(password_stdin)
    info = obj.services.staff.add(obj.actor, name, parsed, password)
    click.echo(f"added {info.username} ({info.role.value})")


@staff_group.command("list")
@click.pass_obj
def list_staff(obj: CliContext) -> None:
    """List staff accounts."""
    rows = obj.services.staff.list(obj.actor)
    if not rows:
        click.echo(
            "no staff accounts yet: add one with `clientpay-tui staff add NAME --role admin`"
        )
        return
    click.echo(f"{'username':<24} {'role':<6} {'state':<22} last sign-in")
    for row in rows:
        if row.disabled:
            state = "disabled"
        elif row.locked_until is not None:
            state = f"locked until {row.locked_until:%Y-%m-%d %H:%M}"
        else:
            state = "active"
        last = f"{row.last_sign_in_at:%Y-%m-%d %H:%M}" if row.last_sign_in_at else "never"
        click.echo(f"{row.username:<24} {row.role.value:<6} {state:<22} {last}")


@staff_group.command("disable")
@click.argument("name")
@click.pass_obj
def disable(obj: CliContext, name: str) -> None:
    """Stop NAME from signing in (takes effect on their next action)."""
    info = obj.services.staff.set_disabled(obj.actor, name, True)
    click.echo(f"disabled {info.username}")


@staff_group.command("enable")
@click.argument("name")
@click.pass_obj
def enable(obj: CliContext, name: str) -> None:
    """Allow a disabled staff member to sign in again."""
    info = obj.services.staff.set_disabled(obj.actor, name, False)
    click.echo(f"enabled {info.username}")


@staff_group.command("unlock")
@click.argument("name")
@click.pass_obj
def unlock(obj: CliContext, name: str) -> None:
    """Clear NAME's failed sign-ins and lock."""
    info = obj.services.staff.unlock(obj.actor, name)
    click.echo(f"unlocked {info.username}")


@staff_group.group("key")
def key_group() -> None:
    """SSH keys that sign staff in without a password (see `ssh_key_sign_in`)."""


def _key_argument(words: tuple[str, ...]) -> str:
    """A public key given as its line (quoted or not) or as the path of a .pub file."""
    text = " ".join(words).strip()
    path = Path(text).expanduser()
    if len(words) == 1 and (text.endswith(".pub") or path.is_file()):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not a text file"
            raise ValidationFailed(f"cannot read {text}: {reason}") from None
        keys = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if len(keys) != 1:
            raise ValidationFailed(f"{text} holds {len(keys)} keys: give a file with one")
        return keys[0]
    return text


@key_group.command("add")
@click.argument("name")
@click.argument("public_key", nargs=-1, required=True)
@click.pass_obj
def key_add(obj: CliContext, name: str, public_key: tuple[str, ...]) -> None:
    """Link PUBLIC_KEY (a .pub file, or its line) to the staff member NAME."""
    info = obj.services.staff_keys.add(obj.actor, name, _key_argument(public_key))
    click.echo(f"linked {info.fingerprint} ({info.key_type}) to {info.username}")


@key_group.command("list")
@click.argument("name", required=False)
@click.pass_obj
def key_list(obj: CliContext, name: str | None) -> None:
    """List linked keys (all, or NAME's)."""
    rows = obj.services.staff_keys.list(obj.actor, name)
    if not rows:
        click.echo("no SSH keys linked: link one with `clientpay-tui staff key add NAME FILE.pub`")
        return
    click.echo(f"{'username':<16} {'fingerprint':<51} {'last used':<16} comment")
    for row in rows:
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(f"{row.username:<16} {row.fingerprint:<51} {used:<16} {row.comment}")


@key_group.command("remove")
@click.argument("key", nargs=-1, required=True)
@click.pass_obj
def key_remove(obj: CliContext, key: tuple[str, ...]) -> None:
    """Unlink KEY: its fingerprint (SHA256:…), a .pub file or its line."""
    info = obj.services.staff_keys.remove(obj.actor, _key_argument(key))
    click.echo(f"unlinked {info.fingerprint} from {info.username}")
