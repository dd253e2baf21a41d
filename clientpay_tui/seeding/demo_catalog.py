"""The demo firm's clients, matters and invoices, and each payer's associations, wallets and
transactions (see :mod:`clientpay_tui.seeding.demo_data`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from clientpay_tui.db.models import Association, Client, Invoice, InvoiceSource, Matter, Payer
from clientpay_tui.db.payment_models import Transaction, TransactionInvoice, Wallet
from clientpay_tui.seeding.names import FIRST, LAST, MATTERS, SUFFIX, WORDS
from clientpay_tui.services.validation import search_key

__all__ = ["FIRST", "LAST", "SPECIAL_PAYERS", "Catalog", "add_catalog", "add_history"]

SPECIAL_PAYERS: list[tuple[str, str | None, str]] = [
    ("Ada Lovelace", "ada@lovelace.example", "active"),
    ("Alan Turing", "alan.turing@example.com", "invited"),
    ("Grace Hopper", "grace@hopper.example", "locked"),
    ("Edsger Dijkstra", "edsger@dijkstra.example", "failed"),
    ("Barbara Liskov", "barbara.liskov@example.com", "none"),
    ("Ken Thompson", None, "no-email"),
    ("Margaret Hamilton", "margaret@hamilton.example", "active"),
    ("Hamilton Family Trust", "margaret@hamilton.example", "active"),
    ("Siobhán O'Brien-Smith", "siobhan@obrien.example", "invited"),
    # Names that look like markup: the app must show them exactly as typed.
    ("[bold red]Markup[/] Test & Co", "markup@example.com", "none"),
    ("[@click=app.quit]Click Me Ltd", "click@example.com", "none"),
]
"""Memorable payers first: one per login state, a shared login, and tricky names."""

STORY_PAYER = "Barbara Liskov"
"""No login yet: the README's demo story grants her access. She sees a whole client whose
invoices are partly payable and partly external, so the portal shows both kinds."""

SOURCES = [InvoiceSource.CONNECT] * 5 + [InvoiceSource.INTERNAL] * 3 + [InvoiceSource.EXTERNAL] * 2


@dataclass
class Catalog:
    clients: list[Client] = field(default_factory=list)
    matters: list[Matter] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)


def add_catalog(session: Session, rng: random.Random, today: date, *, clients: int = 24) -> Catalog:
    """Clients with two to four matters each, and a few invoices of every source per matter."""
    catalog = Catalog()
    invoice_no = 5000
    for c in range(clients):
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIX)}"
        number = f"C-{1001 + c}"
        client = Client(
            number=number, number_key=number.casefold(), name=name, name_key=search_key(name)
        )
        session.add(client)
        session.flush()
        catalog.clients.append(client)
        for m in range(rng.randint(2, 4)):
            description = f"{rng.choice(MATTERS)} {rng.choice(WORDS)}"
            matter_number = f"{number}-{m + 1:02d}"
            matter = Matter(
                client_id=client.id,
                number=matter_number,
                number_key=matter_number.casefold(),
                description=description,
                description_key=search_key(description),
            )
            session.add(matter)
            session.flush()
            catalog.matters.append(matter)
            for _ in range(rng.randint(1, 5)):
                invoice_no += 1
                amount = rng.randrange(15_000, 900_000, 500)
                number_text = f"INV-{invoice_no}"
                invoice = Invoice(
                    client_id=client.id,
                    matter_id=matter.id,
                    number=number_text,
                    number_key=number_text.casefold(),
                    invoice_date=today - timedelta(days=rng.randrange(600)),
                    amount_cents=amount,
                    balance_cents=0 if rng.random() < 0.45 else rng.randrange(0, amount + 1, 100),
                    source=rng.choice(SOURCES),
                )
                session.add(invoice)
                catalog.invoices.append(invoice)
    session.flush()
    return catalog


def add_history(
    session: Session,
    rng: random.Random,
    now: datetime,
    catalog: Catalog,
    payers: list[tuple[Payer, str]],
) -> None:
    """Associations for most payers with a login (and some without), wallets and
    transactions for the active ones."""
    by_client: dict[int, list[Invoice]] = {}
    for invoice in catalog.invoices:
        by_client.setdefault(invoice.client_id, []).append(invoice)
    story_client = _mixed_client(by_client)
    for payer, state in payers:
        has_login = state not in ("none", "no-email")
        story = {"client_id": story_client} if payer.name == STORY_PAYER and story_client else None
        if not has_login and rng.random() > 0.3:
            if story:
                session.add(
                    Association(
                        payer_id=payer.id, created_by="sam", created_at=payer.created_at, **story
                    )
                )
            continue
        client = rng.choice(catalog.clients)
        level = rng.choice(["client", "client", "matter", "invoice"])
        target: dict[str, int] = {"client_id": client.id}
        if level == "matter":
            target = {
                "matter_id": rng.choice([m for m in catalog.matters if m.client_id == client.id]).id
            }
        elif level == "invoice" and by_client.get(client.id):
            target = {"invoice_id": rng.choice(by_client[client.id]).id}
        target = story or target  # the random draws above still happen: the rest stays put
        session.add(
            Association(payer_id=payer.id, created_by="sam", created_at=payer.created_at, **target)
        )
        if state != "active":
            continue
        wallets = []
        for w in range(rng.randint(1, 2)):
            card = w == 0
            last4 = f"{rng.randrange(1000, 9999)}"
            brand = "Visa" if card else "Checking"
            # Test-gateway tokens that approve: the demo's saved methods can pay.
            wallet = Wallet(
                payer_id=payer.id,
                kind="card" if card else "bank",
                label=f"{brand} •••• {last4}",
                is_default=card,
                created_at=payer.created_at + timedelta(days=1),
                token=f"test_{'card' if card else 'bank'}_approve_demo{payer.id}w{w}",
                gateway="test",
                brand=brand,
                last4=last4,
                exp_month=(payer.id % 12) + 1 if card else None,
                exp_year=now.year + 2 if card else None,
                holder_name=payer.name,
            )
            session.add(wallet)
            wallets.append(wallet)
        session.flush()
        for _ in range(rng.randint(0, 5)):
            invoice = rng.choice(by_client.get(client.id) or catalog.invoices)
            wallet = rng.choice(wallets)
            amount = rng.randrange(5_000, max(invoice.amount_cents, 5_001), 100)
            status = rng.choice(["succeeded"] * 5 + ["failed", "refunded"])
            transaction = Transaction(
                payer_id=payer.id,
                wallet_id=wallet.id,
                amount_cents=amount,
                status=status,
                description=f"Payment of {invoice.number}",
                created_at=now - timedelta(days=rng.randrange(1, 300), minutes=rng.randrange(600)),
                method_label=wallet.label,
                gateway="test",
                refunded_cents=amount if status == "refunded" else 0,
            )
            transaction.invoices = [
                TransactionInvoice(invoice_id=invoice.id, position=0, amount_cents=amount)
            ]
            session.add(transaction)


def _mixed_client(by_client: dict[int, list[Invoice]]) -> int | None:
    """The first client with both an open invoice a payer may pay (Connect or internal) and an
    external one."""
    for client_id, invoices in by_client.items():
        sources = {i.source for i in invoices if i.balance_cents > 0}
        if InvoiceSource.EXTERNAL in sources and sources - {InvoiceSource.EXTERNAL}:
            return client_id
    return None
