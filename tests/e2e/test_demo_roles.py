"""``clientpay-tui demo --as alex`` signs in as the demo's agent, and the palette's Sign out
lets the demo's staff member sam in: what the README says the other roles show can be tried,
in a real terminal at 80x24 with the keyboard only."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientpay_tui.cli import main
from tests.e2e.terminal import Terminal, environment, installed_command


def test_demo_as_the_agent_then_sign_out_and_in_as_staff(tmp_path: Path) -> None:
    args = [installed_command(), "demo", "--fresh", "--as", "alex"]
    term = Terminal(args, environment(tmp_path), tmp_path)
    try:
        screen = term.wait_for("payers", seconds=90)
        assert "alex (agent)" in screen
        term.press("\x10")  # ctrl+p: the command palette
        term.wait_for("Search for commands")
        term.press("sign out")
        term.wait_for("Sign out")
        term.press("enter")
        # The notice wraps inside the dialog's border: read it as one line.
        notice = " ".join(term.wait_for("Signed out.").replace("│", " ").split())
        assert (
            "Signed out. Demo accounts: demo (admin), sam (staff), alex (agent); "
            "password clientpay-demo." in notice
        )
        term.press("sam", "enter", "clientpay-demo", "enter")
        term.wait_for("sam (staff)", seconds=30)
        term.wait_for("200 payers")
        term.press("ctrl+q")
        assert term.wait_exit() == 0
    finally:
        if term.child.isalive():
            term.child.terminate(force=True)


def test_demo_refuses_an_unknown_account(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(["demo", "--as", "bob"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'bob' is not one of 'demo', 'sam', 'alex'" in err
