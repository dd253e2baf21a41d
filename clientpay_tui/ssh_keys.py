"""OpenSSH public keys: parse one, check its wire format, and name it by fingerprint.

Only the standard library: the launcher reads the key sshd verified before Textual starts.
A fingerprint is what ``ssh-keygen -l`` prints: ``SHA256:`` and the unpadded base64 of the
SHA-256 of the key blob.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from clientpay_tui.errors import ValidationFailed

MIN_RSA_BITS = 2048
MAX_COMMENT = 200
_CURVES = {"nistp256": 65, "nistp384": 97, "nistp521": 133}
"""ECDSA curve -> length of its uncompressed point (0x04, x, y)."""
KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
)
"""The key types that can be linked (what current OpenSSH accepts; no DSA, no certificates)."""
_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")


@dataclass(frozen=True)
class PublicKey:
    key_type: str
    blob: bytes
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.blob)

    @property
    def base64(self) -> str:
        return base64.b64encode(self.blob).decode("ascii")


def fingerprint_of(blob: bytes) -> str:
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def is_fingerprint(text: str) -> bool:
    return bool(_FINGERPRINT.match(text.strip()))


def parse_public_key(line: str) -> PublicKey:
    """One ``TYPE BASE64 [COMMENT]`` line (as in a ``.pub`` file), checked to the last byte.

    Raises:
        ValidationFailed: one line saying what is wrong with it.
    """
    fields = line.strip().split(None, 2)
    if not fields:
        raise ValidationFailed("no public key given")
    key_type = fields[0]
    if key_type.endswith("-cert-v01@openssh.com"):
        raise ValidationFailed("that is an SSH certificate: link the key itself (its .pub file)")
    if key_type == "ssh-dss":
        raise ValidationFailed("DSA keys are refused by current OpenSSH: use an ed25519 key")
    if key_type not in KEY_TYPES:
        shown = key_type[:40]
        raise ValidationFailed(
            f"not an OpenSSH public key: it starts with {shown!r}, not a key type such as "
            "ssh-ed25519 (give the .pub file or its one line)"
        )
    if len(fields) < 2:
        raise ValidationFailed(f"the {key_type} key has no key data after its type")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"the {key_type} key's data is not valid base64") from None
    _check_blob(key_type, blob)
    comment = fields[2].strip() if len(fields) > 2 else ""
    comment = "".join(ch if ch.isprintable() else "?" for ch in comment)[:MAX_COMMENT]
    return PublicKey(key_type, blob, comment)


def _check_blob(key_type: str, blob: bytes) -> None:
    reader = _Reader(blob, key_type)
    if reader.string() != key_type.encode():
        raise ValidationFailed(f"the key data is not a {key_type} key (its type differs)")
    if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        if len(reader.string()) != 32:
            raise ValidationFailed(f"the {key_type} key is malformed (not 32 bytes)")
    elif key_type == "ssh-rsa":
        reader.string()  # e
        bits = int.from_bytes(reader.string(), "big").bit_length()
        if bits < MIN_RSA_BITS:
            raise ValidationFailed(
                f"the RSA key has {bits} bits: at least {MIN_RSA_BITS} (or use ed25519)"
            )
    else:
        curve = reader.string().decode("ascii", "replace")
        if curve != key_type.removeprefix("sk-").removeprefix("ecdsa-sha2-").split("@")[0]:
            raise ValidationFailed(f"the {key_type} key names another curve ({curve[:20]!r})")
        point = reader.string()
        if len(point) != _CURVES.get(curve, -1) or point[:1] != b"\x04":
            raise ValidationFailed(f"the {key_type} key is malformed (its point)")
    if key_type.startswith("sk-"):
        reader.string()  # application, e.g. "ssh:"
    if not reader.done:
        raise ValidationFailed(f"the {key_type} key is malformed (extra bytes at its end)")


class _Reader:
    """Reads SSH wire-format strings (a 32-bit big-endian length, then that many bytes)."""

    def __init__(self, data: bytes, key_type: str) -> None:
        self.data, self.at, self.key_type = data, 0, key_type

    def string(self) -> bytes:
        if self.at + 4 > len(self.data):
            raise ValidationFailed(f"the {self.key_type} key is malformed (cut short)")
        length = int.from_bytes(self.data[self.at : self.at + 4], "big")
        start, self.at = self.at + 4, self.at + 4 + length
        if self.at > len(self.data):
            raise ValidationFailed(f"the {self.key_type} key is malformed (cut short)")
        return self.data[start : self.at]

    @property
    def done(self) -> bool:
        return self.at == len(self.data)
