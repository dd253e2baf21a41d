"""The screens word the services' structured errors: what happened, then the key that helps."""

from __future__ import annotations

import pytest

from clientpay_tui.errors import (
    ConcurrentGrant,
    NoLogin,
    NotFound,
    RetryRefusal,
    RetryRefused,
)
from clientpay_tui.screens.wording import explain


def test_no_login_names_the_key_that_invites():
    assert explain(NoLogin("Ada [b]Lovelace")) == (
        "Ada [b]Lovelace has no login: switch Login Access on (l) to invite them."
    )


def test_a_concurrent_grant_says_the_payer_is_shown_as_stored():
    assert explain(ConcurrentGrant()) == (
        "Another session granted access to this address at the same moment; nothing was "
        "changed. The payer is shown as stored now."
    )


@pytest.mark.parametrize(
    ("kind", "advice"),
    [
        (RetryRefusal.LOGIN_DELETED, "switch Login Access on (l)"),
        (RetryRefusal.LOGIN_MOVED, "send a new one to the new address"),
        (RetryRefusal.CANCELLED, "send a new one"),
        (RetryRefusal.PASSWORD_SET, "press r to send a password reset"),
        (RetryRefusal.NOT_ACCEPTED, "press r to re-send the welcome email"),
    ],
)
def test_a_refused_retry_says_what_happened_then_what_to_do(kind, advice):
    error = RetryRefused(kind, "ada@example.com", moved_to="ada@new.example")
    text = explain(error)
    assert text.startswith(f"{error} Open the payer")
    assert advice in text and "\n" not in text


def test_a_retry_for_a_deleted_payer_has_nothing_to_add():
    error = RetryRefused(RetryRefusal.PAYER_DELETED, "ada@example.com")
    assert explain(error) == (
        "The payer this email was for was deleted, so this email cannot be retried."
    )


def test_other_errors_are_shown_as_they_are():
    assert explain(NotFound("Payer 7 does not exist.")) == "Payer 7 does not exist."
