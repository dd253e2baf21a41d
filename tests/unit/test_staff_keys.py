"""SSH keys linked to staff accounts: the service, the sign-in it allows, and the CLI."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from clientpay_tui.db.models import Role
from clientpay_tui.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationFailed
from clientpay_tui.ssh_keys import parse_public_key
from tests.unit.test_cli import _one_error_line, cli  # noqa: F401 - the cli fixture


def make_key(seed: int, comment: str = "sam@laptop") -> str:
    blob = b"".join(len(p).to_bytes(4, "big") + p for p in (b"ssh-ed25519", bytes([seed]) * 32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} {comment}"


SAM, SAM_2, ALEX = make_key(1), make_key(2, "sam@desk"), make_key(3, "alex@home")


def fp(line: str) -> str:
    return parse_public_key(line).fingerprint


@pytest.fixture
def keyed(services, admin):
    """sam (staff, two keys) and alex (agent, one key); key sign-in on."""
    services.staff.add(admin, "sam", Role.STAFF, "correct horse battery")
    services.staff.add(admin, "alex", Role.AGENT, "correct horse battery")
    for name, key in (("sam", SAM), ("sam", SAM_2), ("alex", ALEX)):
        services.staff_keys.add(admin, name, key)
    services.ctx = dataclasses.replace(
        services.ctx, settings=services.settings.model_copy(update={"ssh_key_sign_in": True})
    )
    services.staff_keys.ctx = services.ctx
    return services


def sign_ins(services, admin) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.action, e.summary)
        for e in reversed(services.audit.recent(admin))
        if e.action.startswith("staff.sign_in")
    ]


def test_a_linked_key_signs_its_owner_in_and_the_audit_says_how(keyed, admin, clock):
    actor = keyed.staff_keys.sign_in([fp(SAM_2)])
    assert actor is not None and (actor.username, actor.role) == ("sam", Role.STAFF)
    assert sign_ins(keyed, admin) == [("sam", "staff.sign_in", f"Signed in by SSH key {fp(SAM_2)}")]
    [listed] = [k for k in keyed.staff_keys.list(admin, "sam") if k.fingerprint == fp(SAM_2)]
    assert listed.last_used_at == clock.now
    assert [s.last_sign_in_at for s in keyed.staff.list(admin) if s.username == "sam"] == [
        clock.now
    ]


def test_unknown_removed_disabled_and_locked_sign_nobody_in(keyed, admin, clock):
    assert keyed.staff_keys.sign_in([fp(make_key(9))]) is None
    assert keyed.staff_keys.sign_in([]) is None

    keyed.staff_keys.remove(admin, fp(SAM))
    assert keyed.staff_keys.sign_in([fp(SAM)]) is None
    assert keyed.staff_keys.sign_in([fp(SAM_2)]) is not None  # the other key still works

    keyed.staff.set_disabled(admin, "alex", True)
    assert keyed.staff_keys.sign_in([fp(ALEX)]) is None
    keyed.staff.set_disabled(admin, "alex", False)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            keyed.staff.sign_in("alex", "wrong password")
    assert keyed.staff_keys.sign_in([fp(ALEX)]) is None
    clock.advance(minutes=16)  # the lock ends by itself
    assert keyed.staff_keys.sign_in([fp(ALEX)]) is not None

    # Keys of two accounts in one login (AuthenticationMethods publickey,publickey).
    assert keyed.staff_keys.sign_in([fp(SAM_2), fp(ALEX)]) is None
    refusals = [s for (_a, action, s) in sign_ins(keyed, admin) if "refused" in s]
    assert refusals == [
        f"Sign-in by SSH key {fp(ALEX)} refused: account disabled",
        f"Sign-in by SSH key {fp(ALEX)} refused: account locked",
        f"Sign-in by SSH key {fp(SAM_2)} refused: keys of more than one staff account",
    ]


def test_off_unless_the_setting_is_on(services, admin):
    services.staff.add(admin, "sam", Role.STAFF, "correct horse battery")
    services.staff_keys.add(admin, "sam", SAM)
    assert not services.settings.ssh_key_sign_in
    assert services.staff_keys.sign_in([fp(SAM)]) is None
    assert sign_ins(services, admin) == []


def test_a_key_belongs_to_one_account_and_only_admins_manage_keys(keyed, admin, make_actor):
    with pytest.raises(ValidationFailed, match="already linked to sam"):
        keyed.staff_keys.add(admin, "alex", SAM)
    with pytest.raises(NotFound, match="no staff member named 'nobody'"):
        keyed.staff_keys.add(admin, "nobody", make_key(7))
    with pytest.raises(NotFound, match="no staff member has the key"):
        keyed.staff_keys.remove(admin, fp(make_key(7)))
    staff = make_actor(Role.STAFF, "sid")
    with pytest.raises(PermissionDenied):
        keyed.staff_keys.add(staff, "sid", make_key(8))
    with pytest.raises(PermissionDenied):
        keyed.staff_keys.list(staff)


def test_deleting_nothing_else_a_key_goes_with_its_account(keyed, admin):
    assert [k.username for k in keyed.staff_keys.list(admin)] == ["alex", "sam", "sam"]
    removed = keyed.staff_keys.remove(admin, SAM)  # by the key itself
    assert removed.fingerprint == fp(SAM) and removed.username == "sam"
    assert [k.comment for k in keyed.staff_keys.list(admin)] == ["alex@home", "sam@desk"]


# -- the command line ---------------------------------------------------------------------------


def test_cli_add_list_remove(cli, services, admin, tmp_path):  # noqa: F811
    services.staff.add(admin, "sam", Role.STAFF, "correct horse battery")
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text(f"# sam's laptop\n{SAM}\n")
    assert cli("staff", "key", "add", "sam", str(pub)) == (
        0,
        f"linked {fp(SAM)} (ssh-ed25519) to sam\n",
        "",
    )
    # The line itself, quoted or as separate words.
    assert cli("staff", "key", "add", "sam", *SAM_2.split())[0] == 0
    code, out, _ = cli("staff", "key", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["username", "fingerprint", "last", "used", "comment"]
    assert lines[1].split() == ["sam", fp(SAM), "never", "sam@laptop"]
    assert lines[2].split() == ["sam", fp(SAM_2), "never", "sam@desk"]
    assert cli("staff", "key", "remove", fp(SAM)) == (0, f"unlinked {fp(SAM)} from sam\n", "")
    code, _out, err = cli("staff", "key", "remove", str(pub))  # gone already
    _one_error_line(code, err, f"no staff member has the key {fp(SAM)}")
    assert cli("staff", "key", "list", "sam")[1].splitlines()[1].split()[1] == fp(SAM_2)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["ssh-ed25519", "AAAA*"], "not valid base64"),
        (["hello"], "not an OpenSSH public key"),
        (["missing.pub"], "cannot read missing.pub: No such file or directory"),
        (["ssh-ed25519"], "has no key data"),
    ],
)
def test_cli_malformed_keys_are_one_line(cli, services, admin, words, expected):  # noqa: F811
    services.staff.add(admin, "sam", Role.STAFF, "correct horse battery")
    code, _out, err = cli("staff", "key", "add", "sam", *words)
    _one_error_line(code, err, expected)
    assert cli("staff", "key", "list")[1].startswith("no SSH keys linked")


def test_cli_a_file_of_two_keys_is_refused(cli, services, admin, tmp_path):  # noqa: F811
    services.staff.add(admin, "sam", Role.STAFF, "correct horse battery")
    both = tmp_path / "keys.pub"
    both.write_text(f"{SAM}\n{SAM_2}\n")
    code, _out, err = cli("staff", "key", "add", "sam", str(both))
    _one_error_line(code, err, "holds 2 keys: give a file with one")
