"""The password policy and hashing shared by staff and portal logins."""

from __future__ import annotations

import pytest
from argon2 import Parameters, Type, extract_parameters

from clientpay_tui.cli import main
from clientpay_tui.db.models import Role
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services import passwords


def test_the_production_hasher_is_argon2id_at_or_above_owasps_minimum():
    hasher = passwords.DEFAULT_HASHER
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19456
    assert hasher.time_cost >= 2
    assert hasher.parallelism >= 1
    params = extract_parameters(hasher.hash("a real password"))
    assert isinstance(params, Parameters)
    assert params.type is Type.ID and params.memory_cost >= 19456 and params.time_cost >= 2


def test_the_shipped_common_password_list_is_large_and_lower_case():
    common = passwords.common_passwords()
    assert len(common) >= 10_000
    assert sum(len(word) >= passwords.MIN_LENGTH for word in common) > 8_000
    assert "password" in common and "iloveyou" in common


@pytest.mark.parametrize(
    "password",
    ["password", "Password", "PASSWORD1", "  password1  ", "qwertyuiop", "iloveyou", "12345678"],
)
def test_common_passwords_are_refused_whatever_their_case(password):
    with pytest.raises(ValidationFailed, match="most common"):
        passwords.check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 8"),
        ("seven77", "at least 8"),
        ("x" * 129, "at most 128"),
        (" " * 12, "only spaces"),
        ("abc\ud800defgh", "cannot be used"),
    ],
)
def test_length_and_shape(password, message):
    with pytest.raises(ValidationFailed, match=message):
        passwords.check_password_policy(password)


@pytest.mark.parametrize(
    "password",
    [
        "tundra88",
        "x" * 64,
        "y" * 128,
        "パスワードは長いほうがいい",
        "correct horse battery staple",
        "😀" * 8,
    ],
)
def test_accepted_passwords(password):
    passwords.check_password_policy(password)
    assert passwords.verify_password(passwords.hash_password(password), password)


def test_the_account_name_is_refused():
    for password in ("ada.lovelace@example.com", "ADA.LOVELACE", "ada.lovelace"):
        with pytest.raises(ValidationFailed, match="email address or user name"):
            passwords.check_password_policy(password, avoid=["ada.lovelace@example.com"])
    passwords.check_password_policy("lovelace engine notes", avoid=["ada.lovelace@example.com"])


@pytest.mark.parametrize(
    "password", ["margaret.h", "Margaret.H", "MARGARET-H99", "margaret_h 2026!"]
)
def test_the_user_name_with_only_digits_or_symbols_added_is_refused(password):
    with pytest.raises(ValidationFailed, match="email address or user name"):
        passwords.check_password_policy(password, avoid=["margaret.h"])
    passwords.check_password_policy("margaret's garden gate", avoid=["margaret.h"])


@pytest.mark.parametrize(
    "attempt", ["", "wrong", "\ud800\udfff" * 3, "x" * 1_000_000, "good password\x00"]
)
def test_verification_never_raises_and_never_matches_a_wrong_password(attempt):
    stored = passwords.hash_password("good password")
    assert passwords.verify_password(stored, attempt) is False
    assert passwords.verify_password(None, attempt) is False
    assert passwords.verify_password("not a hash", attempt) is False


def test_staff_accounts_share_the_policy(services, admin):
    with pytest.raises(ValidationFailed, match="most common"):
        services.staff.add(admin, "dave", Role.AGENT, "Password123")


@pytest.mark.parametrize("password", ["hamilton.m", "Hamilton.M", "HAMILTON.M2026"])
def test_a_staff_password_equal_to_the_user_name_is_refused(services, admin, password):
    with pytest.raises(ValidationFailed, match="user name") as refused:
        services.staff.add(admin, "hamilton.m", Role.STAFF, password)
    assert "\n" not in str(refused.value)
    assert services.staff.list(admin) == []


def test_the_staff_command_refuses_its_user_name_as_password_in_one_line(
    database_url, monkeypatch, capsys
):
    import io

    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("Grace.Hopper\n"))
    with pytest.raises(SystemExit) as exit_:
        main(["staff", "add", "grace.hopper", "--role", "agent", "--password-stdin"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "user name" in err


def test_the_staff_command_refuses_a_common_password_in_one_line(database_url, monkeypatch, capsys):
    import io

    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("letmein123\n"))
    with pytest.raises(SystemExit) as exit_:
        main(["staff", "add", "erin", "--role", "agent", "--password-stdin"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "most common" in err
