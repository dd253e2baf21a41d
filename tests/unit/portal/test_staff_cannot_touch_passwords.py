"""Staff start resets but never choose or see a payer's password (or a link's token).

Checked two ways: the service layer's whole public surface is inspected (no parameter takes a
password for a payer, no return type can carry a hash or a token), and every read a staff
screen makes is run against a payer with a password and searched for the secrets.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import types
import typing
from pathlib import Path

import clientpay_tui
from clientpay_tui.db.models import Base, OutboxEmail, PortalLogin
from clientpay_tui.services.candidates import CandidateFilter
from clientpay_tui.services.facade import Services

from .conftest import GOOD_PASSWORD, latest_link

SECRET_NAME = re.compile(r"pass|secret|hash|token", re.IGNORECASE)
STAFF_OWN_PASSWORD = {("staff", "add", "password"), ("staff", "sign_in", "password")}
"""A staff member's own password, typed by them (or the admin creating the account)."""


def _public_methods(services: Services):
    for service_name, service in vars(services).items():
        if service_name == "ctx":
            continue
        for name, method in inspect.getmembers(service, inspect.ismethod):
            if not name.startswith("_"):
                yield service_name, name, method


def _types_in(annotation, seen: set) -> typing.Iterator[type]:
    """Every class an annotation can hold, through containers, unions and dataclass fields."""
    if annotation in seen:
        return
    seen.add(annotation)
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _types_in(arg, seen)
        if isinstance(origin, type):
            yield origin
        return
    if isinstance(annotation, type):
        yield annotation
        if dataclasses.is_dataclass(annotation):
            hints = typing.get_type_hints(annotation)
            for field in dataclasses.fields(annotation):
                yield from _types_in(hints[field.name], seen)


def test_no_service_takes_a_password_other_than_a_staff_members_own(services):
    takes_secret = set()
    for service_name, name, method in _public_methods(services):
        for parameter in inspect.signature(method).parameters:
            if SECRET_NAME.search(parameter):
                takes_secret.add((service_name, name, parameter))
    assert takes_secret == STAFF_OWN_PASSWORD


def test_no_service_returns_anything_that_can_hold_a_hash_or_token(services):
    checked = 0
    for service_name, name, method in _public_methods(services):
        hints = typing.get_type_hints(method)
        for cls in _types_in(hints.get("return"), set()):
            where = f"{service_name}.{name} returns {cls.__name__}"
            assert not (isinstance(cls, type) and issubclass(cls, Base)), where
            if dataclasses.is_dataclass(cls):
                for field in dataclasses.fields(cls):
                    assert not SECRET_NAME.search(field.name), f"{where}.{field.name}"
            checked += 1
    assert checked > 40  # the walk really went through the dataclasses


def test_staff_code_never_imports_the_portals_account_functions():
    """Screens and widgets may show a portal preview (services.preview), never set passwords."""
    root = Path(clientpay_tui.__file__).parent.parent
    sources = [*root.glob("screens/**/*.py"), *root.glob("widgets/**/*.py")]
    sources += [*Path(clientpay_tui.__file__).parent.glob("widgets/**/*.py")]
    sources += [p for p in (Path(clientpay_tui.__file__).parent / "app.py",) if p.exists()]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for module in names:
                assert not module.startswith("clientpay_tui.portal"), f"{source}: {module}"


def test_what_staff_read_about_a_payer_never_shows_the_hash_or_a_live_token(
    services, portal, active, admin, clock
):
    payer = active()
    clock.advance(minutes=2)
    portal.accounts.request_reset(payer.email)
    token = latest_link(services)[1]
    with services.db.read() as session:
        password_hash = session.query(PortalLogin).one().password_hash
        sent_body = session.query(OutboxEmail).order_by(OutboxEmail.id.desc()).first().body_text
    assert token in sent_body  # the secret is there to be found, in the email only

    shown = [
        services.payers.get(admin, payer.payer_id),
        services.payers.search(admin, "ada"),
        services.preview.portal_view(admin, payer.payer_id),
        services.audit.for_payer(admin, payer.payer_id),
        services.audit.recent(admin),
        services.outbox.list(admin),
        services.access.budget(admin, payer.payer_id),
        services.associations.for_payer(admin, payer.payer_id),
        services.associations.candidates(admin, CandidateFilter()),
        services.staff.list(admin),
    ]
    text = repr(shown)
    for secret in (password_hash, password_hash.rsplit("$", 1)[-1], token, GOOD_PASSWORD):
        assert secret not in text
    assert "$argon2" not in text
