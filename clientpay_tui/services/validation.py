"""Checks and normalisation for what people type and files hold. Errors are one line."""

from __future__ import annotations

import re
import unicodedata

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.text import clean_text, one_line

NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 40
NOTES_MAX = 5000
_PHONE = re.compile(r"^[0-9+()./\- ]*(?:(?:ext\.?|x) ?[0-9]+)?$", re.IGNORECASE)


def _is_accent(char: str) -> bool:
    # Only the combining diacritical marks (U+0300-U+036F), the accents of Latin, Greek and
    # Cyrillic: marks that other scripts need to spell a word (virama, nukta) are kept.
    return "\u0300" <= char <= "\u036f"


def search_key(value: str) -> str:
    """The form of a name or description stored in ``*_key`` columns and used to search and
    sort them: casefolded, compatibility forms unfolded (``ﬁ`` → ``fi``) and accents
    dropped, so ``Élodie`` sorts with the E names and ``elodie`` finds her.

    Both backends compare keys byte-wise, so this is the whole of the sort order."""
    folded = unicodedata.normalize("NFKD", clean_text(value).casefold())
    if folded.isascii():
        return folded
    return unicodedata.normalize("NFC", "".join(c for c in folded if not _is_accent(c)))


def number_key(value: str) -> str:
    """The casefolded form of a client, matter or invoice number: an identifier (unique per
    firm), so two numbers that differ only by an accent stay two numbers."""
    return clean_text(value).casefold()


def payer_name(value: str) -> str:
    name = clean_text(value or "")
    if not name:
        raise ValidationFailed("Name is required.")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"Name is longer than {NAME_MAX} characters.")
    return name


def email_address(value: str | None) -> tuple[str, str] | None:
    """Validate an email address; return ``(normalised, key)``, or ``None`` when blank.

    Internationalised domains are accepted (stored in IDNA form); a non-ASCII mailbox name is
    refused because many mail servers cannot deliver to it.
    """
    raw = clean_text(value or "")
    if not raw:
        return None
    if len(raw) > EMAIL_MAX:
        raise ValidationFailed(f"Email address is longer than {EMAIL_MAX} characters.")
    # Imported on first use, not at start-up (email_validator is ~20 ms of every start).
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise ValidationFailed(f"Invalid email address {one_line(raw, 60)!r}: {error}") from None
    normalized = checked.ascii_email or checked.normalized
    return normalized, normalized.casefold()


def phone_number(value: str | None) -> str | None:
    phone = clean_text(value or "")
    if not phone:
        return None
    if len(phone) > PHONE_MAX or not _PHONE.match(phone):
        raise ValidationFailed(
            f"Invalid phone number {one_line(phone, 40)!r}: use digits, spaces, + ( ) - . and ext."
        )
    return phone


def notes_text(value: str | None) -> str | None:
    notes = clean_text(value or "", multiline=True)
    if len(notes) > NOTES_MAX:
        raise ValidationFailed(f"Notes are longer than {NOTES_MAX} characters.")
    return notes or None
