"""Bulk grant and bulk re-send on the payer list: the confirm dialog (how many payers and
addresses, who is skipped and why), the summary afterwards, and the messages a run posts from
its worker thread. The service plans and runs (:mod:`clientpay_tui.services.bulk_access`);
this module only words it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from clientpay_tui.services.bulk_access import (
    BulkAction,
    BulkPlan,
    BulkProgress,
    BulkResult,
    Skipped,
)
from clientpay_tui.text import plural, printable
from clientpay_tui.widgets.paged_table import Column, ListSource, PagedTable

TITLES = {BulkAction.GRANT: "Grant login access", BulkAction.RESEND: "Re-send invitations"}
DONE = {BulkAction.GRANT: "granted", BulkAction.RESEND: "re-sent"}
SHOWN_SKIPS = 5
"""Reasons listed in the confirm dialog (the summary lists every skipped payer)."""


def confirm_text(plan: BulkPlan, welcome_days: float) -> str:
    """What the confirm dialog says: who gets what, to how many addresses, and the skips."""
    payers, addresses = (
        plural(len(plan.targets), "payer"),
        plural(plan.addresses, "address", "addresses"),
    )
    if plan.action == BulkAction.GRANT:
        what = (
            f"Grant login access to {payers} and queue a welcome email to each of "
            f"{addresses}; a payer whose address already has a login is added to it and "
            "told by a short notice."
        )
    else:
        what = (
            f"Re-send the welcome email to {payers} whose invitation expired ({addresses}); "
            "each gets a new link and the old one stops working."
        )
    what += f" Links are valid {plural(welcome_days, 'day')}."
    return what + "\n\n" + skipped_text(plan)


def skipped_text(plan: BulkPlan) -> str:
    if not plan.skipped:
        return f"Of the {plan.selected:,} selected, none is skipped."
    lines = [f"Skipped, of the {plan.selected:,} selected:"]
    reasons = plan.skipped_by_reason()
    for reason, count in reasons[:SHOWN_SKIPS]:
        lines.append(f"  {count:,}: {reason}")
    if len(reasons) > SHOWN_SKIPS:
        rest = sum(count for _reason, count in reasons[SHOWN_SKIPS:])
        lines.append(f"  {rest:,}: other reasons (listed when it is done)")
    return "\n".join(lines)


def result_line(result: BulkResult) -> str:
    """One line for the toast and the summary's heading."""
    done = f"{plural(result.emailed, 'payer')} {DONE[result.action]}"
    skipped = f", {len(result.skipped):,} skipped" if result.skipped else ""
    stopped = f"; stopped, {result.not_done:,} not done" if result.stopped else ""
    return f"{TITLES[result.action]}: {done}{skipped}{stopped} ({result.seconds:.1f} s)."


class BulkStep(Message):
    """One payer of a bulk run done (posted from the run's worker thread)."""

    def __init__(self, progress: BulkProgress) -> None:
        super().__init__()
        self.progress = progress


class BulkDone(Message):
    """A bulk run ended (finished, stopped, or failed with ``result`` None)."""

    def __init__(self, result: BulkResult | None) -> None:
        super().__init__()
        self.result = result


SKIPPED_COLUMNS: list[Column[Skipped]] = [
    Column("Name", lambda s: s.name, ratio=2),
    Column("Email", lambda s: s.email or "", ratio=2),
    Column("Why skipped", lambda s: s.reason, ratio=3),
]


class BulkSummaryScreen(ModalScreen[None]):
    """What a bulk run did, with every skipped payer and why (closes with escape or enter)."""

    # Styled in payer_list.tcss: it opens over the list, whose stylesheet is loaded.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, result: BulkResult) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        with Vertical(id="bulk-summary"):
            yield Static(Content(printable(result_line(self.result))), id="bulk-summary-title")
            if self.result.skipped:
                yield PagedTable(SKIPPED_COLUMNS, id="bulk-skipped", empty_text="Nothing skipped.")
            else:
                yield Static(Text("Nothing was skipped."))
            yield Button(Content("Close (esc)"), id="bulk-close")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.result.skipped:
            table = self.query_one("#bulk-skipped", PagedTable)
            table.load(ListSource(self.result.skipped))
            self.set_focus(table)

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#bulk-close")
    def _close_pressed(self) -> None:
        self.dismiss(None)
