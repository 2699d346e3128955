"""Staff passwords: argon2 hashes, and the rules a new password must meet."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mjolby.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
PASSWORD_TOO_SHORT = f"Lösenordet måste ha minst {MIN_PASSWORD_LENGTH} tecken."
PASSWORD_TOO_COMMON = ("Lösenordet är för vanligt och lätt att gissa. Välj ett annat, till exempel "
                       "några ord som inte hör ihop.")
PASSWORD_HAS_EMAIL = "Lösenordet får inte innehålla e-postadressen eller namnet i den."


def _load_common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent / "common_passwords.txt"
    lines = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


COMMON_PASSWORDS = _load_common_passwords()
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both cases take as long.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class StaffError(InvalidInput):
    """A staff account could not be created or changed; the message is Swedish."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "bad_account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str, email: str | None = None) -> None:
    """Refuse short passwords, well-known ones and ones built from the e-mail address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(PASSWORD_TOO_SHORT)
    if password.strip() != password or len(set(password)) < 5:
        raise StaffError("Välj ett lösenord som är svårare att gissa.")
    lowered = password.lower()
    core = _EDGES.sub("", lowered)
    if lowered in COMMON_PASSWORDS or core in COMMON_PASSWORDS or not core or _repeats_a_short_unit(core):
        raise StaffError(PASSWORD_TOO_COMMON)
    if email:
        local = normalise_email(email).partition("@")[0]
        parts = [local] + [p for p in re.split(r"[._+-]+", local) if len(p) >= 4]
        if any(len(part) >= 3 and part in lowered for part in parts):
            raise StaffError(PASSWORD_HAS_EMAIL)


def _repeats_a_short_unit(core: str) -> bool:
    """'sommarsommar', 'abcabcabcabc': one short or well-known piece over and over."""
    for size in range(1, len(core) // 2 + 1):
        unit = core[:size]
        if len(core) % size == 0 and unit * (len(core) // size) == core:
            return size <= 4 or unit in COMMON_PASSWORDS
    return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
