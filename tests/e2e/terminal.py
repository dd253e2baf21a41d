"""A real pseudo-terminal at 80x24 running the installed ``clientpay-tui``, read through pyte."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pexpect
import pyte

COLUMNS, LINES = 80, 24
PASSWORD = "correct horse battery"
"""The password of the staff account ``sam`` in ``firm_database``."""


def installed_command() -> str:
    """The console script of the environment running the tests (not ``python -m``)."""
    script = Path(sys.executable).with_name("clientpay-tui")
    if script.exists():
        return str(script)
    found = shutil.which("clientpay-tui")
    assert found, "clientpay-tui is not installed in this environment"
    return found


class Terminal:
    """Drive a program by keystrokes and read its screen as a person would see it."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.output = bytearray()
        """Every byte the program wrote, escape sequences and all."""
        self.child = pexpect.spawn(
            args[0],
            args[1:],
            env=env,
            cwd=str(cwd),
            dimensions=(LINES, COLUMNS),
            timeout=5,
        )

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, seconds: float = 0.05) -> None:
        """Feed whatever the program wrote to the virtual screen."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.02)
            except pexpect.TIMEOUT:
                data = b""
            except pexpect.EOF:
                return
            if data:
                self.output += data
                self.stream.feed(data)
            elif time.monotonic() >= deadline:
                return

    def wait_for(self, text: str, seconds: float = 15.0) -> str:
        """Wait until ``text`` is on screen; return the screen."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump()
            screen = self.text()
            if text in screen:
                return screen
            if not self.child.isalive():
                break
        raise AssertionError(f"{text!r} did not appear; the screen shows:\n{self.text()}")

    def press(self, *keys: str, pause: float = 0.15) -> None:
        """Type keys (strings as typed, or names such as ``enter``, ``escape``, ``ctrl+q``)."""
        names = {"enter": "\r", "escape": "\x1b", "tab": "\t", "ctrl+q": "\x11", "ctrl+s": "\x13"}
        for key in keys:
            self.child.send(names.get(key, key))
            self.pump(pause)

    def hang_up(self, seconds: float = 15.0) -> None:
        """Close the terminal (as sshd does when the connection drops: the kernel sends the
        program SIGHUP) and wait for the program to end, without signalling it again."""
        child = self.child
        child.ptyproc.fileobj.close()
        child.ptyproc.closed = child.closed = True  # closed here: pexpect must not again
        deadline = time.monotonic() + seconds
        while child.isalive():
            assert time.monotonic() < deadline, f"still running {seconds} s after the hang-up"
            time.sleep(0.05)

    def wait_exit(self, seconds: float = 10.0) -> int:
        deadline = time.monotonic() + seconds
        while self.child.isalive() and time.monotonic() < deadline:
            self.pump()
        self.child.close()
        assert self.child.exitstatus is not None, "the app did not exit"
        return self.child.exitstatus


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A clean environment: only our settings, a 256-colour terminal (as over SSH)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLIENTPAY_", "TEXTUAL", "COLORTERM", "NO_COLOR"))
    }
    env.update(
        TERM="xterm-256color",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        ESCDELAY="300",
    )
    env.update({f"CLIENTPAY_{name.upper()}": value for name, value in settings.items()})
    return env


class DetachedTerminal:
    """A pseudo-terminal that is the program's standard input and output but not its
    controlling terminal (the program runs in a session of its own): closing it sends no
    SIGHUP, so the program only learns from its input that the terminal went away."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
        )
        os.close(slave)

    def wait_for(self, text: str, seconds: float = 15.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                self.stream.feed(os.read(self.master, 65536))
                if text in "\n".join(self.screen.display):
                    return
        raise AssertionError(f"{text!r} did not appear:\n" + "\n".join(self.screen.display))

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        """The terminal goes away (as sshd closes it when the connection drops)."""
        os.close(self.master)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
