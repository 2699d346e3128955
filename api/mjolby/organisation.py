"""Contact details of Medborgarservice, read from knowledge/organisation.yml.

The one place the API takes a phone number, an e-mail address or a function
mailbox from: texts, pages and the staff console's forward list all read
them here, so that a changed number is changed once, in the knowledge folder.
ORGANISATION_FILE overrides where the file is read from.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ORGANISATION_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "organisation.yml"


class OrganisationError(ValueError):
    """organisation.yml lacks a contact detail the product needs."""


@dataclass(frozen=True)
class Organisation:
    phone: str
    phone_href: str
    email: str
    medborgarservice_email: str
    visiting_address: str
    function_mailboxes: tuple[tuple[str, str], ...]


def organisation_file() -> Path:
    return Path(os.environ.get("ORGANISATION_FILE") or DEFAULT_ORGANISATION_FILE)


def read_organisation_file(path: Path | None = None) -> dict[str, Any]:
    data = yaml.safe_load((path or organisation_file()).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise OrganisationError("organisation.yml is not a mapping")
    return data


@lru_cache(maxsize=4)
def _load(path: Path) -> Organisation:
    data = read_organisation_file(path)
    missing = [key for key in ("phone", "phone_href", "email") if not data.get(key)]
    if missing:
        raise OrganisationError(f"{path}: missing {', '.join(missing)}")
    mailboxes = tuple(
        (str(m["address"]), str(m.get("label") or m["address"]))
        for m in data.get("function_mailboxes") or () if isinstance(m, dict) and m.get("address")
    )
    return Organisation(
        phone=str(data["phone"]),
        phone_href=str(data["phone_href"]),
        email=str(data["email"]),
        medborgarservice_email=str(data.get("medborgarservice_email") or data["email"]),
        visiting_address=str(data.get("visiting_address") or ""),
        function_mailboxes=mailboxes,
    )


def organisation(path: Path | None = None) -> Organisation:
    return _load(path or organisation_file())
