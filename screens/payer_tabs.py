"""The read-only tabs of the payer details screen: Associations, Portal preview, Wallets,
Transactions and Activity. One blocking loader fetches them all; each pane is a summary line
over a :class:`PagedTable` so every table in the app reads and scrolls the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from clientpay_tui.screens.payment_tabs import (
    TRANSACTION_COLUMNS,
    WALLET_COLUMNS,
    PayerTransactions,
    describe_payment,
    describe_wallet,
    load_transactions,
    wallets_summary,
)
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.associations import AssociationRow, Level
from clientpay_tui.services.audit import AuditEntry
from clientpay_tui.services.payments.wallets import WalletRow
from clientpay_tui.services.preview import PortalView, VisibleInvoice
from clientpay_tui.text import plural, printable
from clientpay_tui.widgets.formatting import day, money, stamp
from clientpay_tui.widgets.paged_table import Column, ListSource, PagedTable
from clientpay_tui.widgets.row_source import RowSource

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class PayerAssociations:
    """A :class:`RowSource` of one payer's associations, newest first: the table reads them a
    page at a time (a payer may hold tens of thousands)."""

    session: StaffSession
    payer_id: int
    total: int
    """Counted when the tabs loaded, so that the summary line and the table agree."""

    def count(self) -> tuple[int, bool]:
        return self.total, False

    def fetch(self, offset: int, limit: int) -> Sequence[AssociationRow]:
        associations = self.session.services.associations
        return associations.for_payer(self.session.actor, self.payer_id, offset, limit)


@dataclass(frozen=True)
class PayerPreview:
    """A :class:`RowSource` of the invoices the payer sees in the portal, newest first, read a
    page at a time through the service that serves the portal's home page."""

    session: StaffSession
    view: PortalView
    """Loaded with the tabs: its figures and first invoices."""

    def count(self) -> tuple[int, bool]:
        return self.view.invoice_count, self.view.invoice_count_capped

    def fetch(self, offset: int, limit: int) -> Sequence[VisibleInvoice]:
        loaded = self.view.invoices
        everything = len(loaded) == self.view.invoice_count and not self.view.invoice_count_capped
        if offset + limit <= len(loaded) or everything:
            return loaded[offset : offset + limit]
        preview = self.session.services.preview
        return preview.invoice_page(self.session.actor, self.view.payer_id, offset, limit).invoices


@dataclass(frozen=True)
class TabsData:
    session: StaffSession
    preview: PortalView
    activity: list[AuditEntry]
    wallets: list[WalletRow]
    transactions: PayerTransactions
    associations: PayerAssociations | None
    """``None`` while the Connect integration is off (the tab does not exist then)."""


def load_tabs(session: StaffSession, payer_id: int, connect: bool) -> TabsData:
    """Everything the read-only tabs show (blocking: run it in a thread)."""
    services, actor = session.services, session.actor
    associations = None
    if connect:
        total = services.associations.count_for_payer(actor, payer_id)
        associations = PayerAssociations(session, payer_id, total)
    return TabsData(
        session=session,
        preview=services.preview.portal_view(actor, payer_id),
        activity=services.audit.for_payer(actor, payer_id),
        wallets=services.wallets.for_payer(actor, payer_id),
        transactions=load_transactions(session, payer_id),
        associations=associations,
    )


class DataPane(Vertical, Generic[RowT]):
    """A summary line over a table of rows already loaded, and optionally the highlighted
    row in full below it (for what does not fit in 80 columns)."""

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        empty_text: str,
        *,
        id: str,
        describe: Callable[[RowT], str] | None = None,
    ) -> None:
        super().__init__(id=id, classes="data-pane")
        self.table: PagedTable[RowT] = PagedTable(
            columns,
            empty_text=empty_text,
            show_highlighted=None if describe is None else self._show_detail,
        )
        self.describe = describe
        self._shown: tuple[Sequence[RowT] | RowSource[RowT], str] | None = None
        self._applied = False

    def compose(self) -> ComposeResult:
        yield Static("Loading…", classes="pane-summary")
        yield self.table
        if self.describe is not None:
            yield Static("", classes="pane-detail")

    def _show_detail(self, row: RowT | None) -> None:
        """The highlighted row in full, below the table (in the rows' frame)."""
        assert self.describe is not None
        text = "" if row is None else self.describe(row)
        self.query_one(".pane-detail", Static).update(Content(printable(text, multiline=True)))

    def show(self, rows: Sequence[RowT] | RowSource[RowT], summary: str) -> None:
        """Show rows, loaded or read a page at a time from a source (kept until mounted:
        panes of hidden tabs mount lazily)."""
        self._shown = (rows, summary)
        if self.is_mounted:
            self._apply()

    def on_mount(self) -> None:
        self._apply()

    def _apply(self) -> None:
        if self._shown is None:
            return
        rows, summary = self._shown
        self.query_one(".pane-summary", Static).update(Content(printable(summary)))
        source = ListSource(rows) if isinstance(rows, Sequence) else rows
        # A reload (after a removal, a grant, an email sent) keeps the place in the table.
        self.table.load(source, keep_cursor=self._applied)
        self._applied = True


def _payable(invoice: VisibleInvoice) -> Text:
    return Text("yes" if invoice.payable else "no", style="bold" if invoice.payable else "dim")


def describe_invoice(invoice: VisibleInvoice) -> str:
    matter = (
        f"{invoice.matter_number} {invoice.matter_description}" if invoice.matter_number else ""
    )
    return (
        f"{invoice.invoice_number} ({invoice.source.value}) {matter}\n"
        f"Amount {money(invoice.amount_cents)}, balance {money(invoice.balance_cents)}: "
        f"{invoice.reason}"
    )


PREVIEW_COLUMNS: list[Column[VisibleInvoice]] = [
    Column("Invoice", lambda i: i.invoice_number, width=12),
    Column("Date", lambda i: day(i.invoice_date), width=11),
    Column("Client", lambda i: f"{i.client_number} {i.client_name}", ratio=1),
    Column("Balance", lambda i: money(i.balance_cents), width=11, justify="right"),
    Column("Payable", _payable, width=7),
]


def _association_client(row: AssociationRow) -> str:
    return f"{row.client_number} {row.client_name}"


def _association_matter(row: AssociationRow) -> str:
    if row.matter_number is None:
        return ""
    return f"{row.matter_number} {row.matter_description or ''}".rstrip()


ASSOCIATION_COLUMNS: list[Column[AssociationRow]] = [
    # Every level names its client and (for a matter or an invoice in one) its matter; the
    # invoice column is blank for the wider levels.
    Column("Level", lambda a: a.level.value, width=7),
    Column("Client", _association_client, ratio=3, min_width=16),
    Column("Matter", _association_matter, ratio=3, min_width=14),
    Column("Invoice", lambda a: a.invoice_number or "", width=12, give_way=2),
    Column("Invoices", lambda a: f"{a.invoice_count:,}", width=8, justify="right"),
    Column("Open", lambda a: money(a.open_balance_cents), width=11, justify="right"),
    Column("Added by", lambda a: a.created_by, ratio=1, min_width=8, give_way=1),
]


def describe_association(row: AssociationRow) -> str:
    """The highlighted association in full: what it is, its client and matter, who added it."""
    parts = [row.target]
    if row.level != Level.CLIENT:
        parts.append(f"client {_association_client(row)}")
    if row.level == Level.INVOICE and row.matter_number is not None:
        parts.append(f"matter {_association_matter(row)}")
    return " · ".join(parts) + f"\nAdded by {row.created_by} on {day(row.created_at)}"


ACTIVITY_COLUMNS: list[Column[AuditEntry]] = [
    Column("When (UTC)", lambda e: stamp(e.at), width=16),
    Column("Who", lambda e: e.actor, width=14),
    Column("What", lambda e: e.summary, ratio=1),
]


def associations_pane() -> DataPane[Any]:
    return DataPane(
        ASSOCIATION_COLUMNS,
        "No associations: this payer sees no invoices.",
        id="associations-pane",
        describe=describe_association,
    )


def detail_panes() -> dict[str, tuple[str, DataPane[Any]]]:
    """The always-present read-only tabs: pane id → (tab title, pane)."""
    return {
        "preview": (
            "Portal preview",
            DataPane(
                PREVIEW_COLUMNS,
                "No invoices are visible.",
                id="preview-pane",
                describe=describe_invoice,
            ),
        ),
        "wallets": (
            "Wallets",
            DataPane(WALLET_COLUMNS, "No wallets.", id="wallets-pane", describe=describe_wallet),
        ),
        "transactions": (
            "Transactions",
            DataPane(
                TRANSACTION_COLUMNS,
                "No transactions.",
                id="transactions-pane",
                describe=describe_payment,
            ),
        ),
        "activity": (
            "Activity",
            DataPane(
                ACTIVITY_COLUMNS,
                "No activity.",
                id="activity-pane",
                describe=lambda e: f"{stamp(e.at)} UTC, {e.actor} ({e.action}):\n{e.summary}",
            ),
        ),
    }


def show_tabs(panes: dict[str, DataPane[Any]], data: TabsData) -> None:
    preview = data.preview
    panes["preview"].show(PayerPreview(data.session, preview), preview.summary)
    panes["wallets"].show(data.wallets, wallets_summary(data.wallets))
    panes["transactions"].show(data.transactions, data.transactions.summary)
    panes["activity"].show(data.activity, f"{plural(len(data.activity), 'event')}, newest first.")
    if data.associations is not None and "associations" in panes:
        source = data.associations
        panes["associations"].show(
            source,
            f"{plural(source.total, 'association')}: what this payer sees in the portal, newest "
            "first.",
        )
