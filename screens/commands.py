"""Command palette (``ctrl+p``) providers: jump to a payer, and run the current screen's keys.

Hits are built as ``Content`` from literal text: the palette parses plain strings as markup,
and payer names are data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from clientpay_tui.messages import OpenPayer
from clientpay_tui.screens.base import ClientPayScreen
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.text import printable
from clientpay_tui.widgets.textual_compat import key_bindings


def _highlighted(text: str, query: str) -> Content:
    """``text`` shown literally, with the first case-insensitive match of ``query`` bold."""
    content = Content(text)
    start = text.casefold().find(query.casefold())
    if query and start >= 0:
        content = content.stylize("bold underline", start, start + len(query))
    return content


class PayerCommands(Provider):
    """Open a payer by typing part of their name, email or client number."""

    MIN_QUERY = 2
    LIMIT = 8

    def _session(self) -> StaffSession | None:
        """The session of the signed-in screen the palette opened over (a dialog or Help
        may be on top of it); ``None`` before sign-in."""
        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, ClientPayScreen):
                return screen.session
        return None

    async def search(self, query: str) -> Hits:
        session = self._session()
        text = query.strip()
        if session is None or len(text) < self.MIN_QUERY:
            return
        rows = await asyncio.to_thread(
            session.services.payers.search, session.actor, text, 0, self.LIMIT
        )
        matcher = self.matcher(text)
        for rank, row in enumerate(rows):
            label = printable(f"{row.name}  <{row.email or 'no email'}>  {row.status.value}")
            score = max(matcher.match(row.name), matcher.match(row.email or ""))
            # The database matched it (perhaps by client number): keep its order.
            score = max(score, 0.5 - rank / 100)
            yield Hit(
                score,
                _highlighted(label, text),
                partial(self.app.post_message, OpenPayer(row.id)),
                text=label,
            )


class ScreenCommands(Provider):
    """Every key of the screen the palette was opened on, runnable by name."""

    def _commands(self) -> list[tuple[str, str, Any]]:
        screen = self.screen
        found: list[tuple[str, str, Callable[[], object]]] = []
        for _key, bindings in key_bindings(screen):
            for binding in bindings:
                if not binding.description or binding.system:
                    continue
                action = binding.action
                name = action.partition("(")[0]
                _namespace, _name, parameters = parse(action)
                if screen.check_action(name, parameters) is False:
                    continue  # hidden in the Footer too: it does not apply here now
                reason = screen.denial(name) if isinstance(screen, ClientPayScreen) else None
                key = self.app.get_key_display(binding)
                command: Callable[[], object]
                if reason and isinstance(screen, ClientPayScreen):
                    command = partial(screen.refuse, name)
                    help_text = reason
                else:
                    command = partial(screen.run_action, action)
                    help_text = f"Key: {key}"
                found.append((binding.tooltip or binding.description, help_text, command))
        if isinstance(screen, ClientPayScreen):
            found.extend(screen.palette_commands())
        return found

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(Content(name), command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
