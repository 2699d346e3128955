"""Text that every supported database can store and every client can encode.

PostgreSQL refuses the NUL character in text columns, and a lone UTF-16
surrogate (JSON allows "\\ud800") cannot be encoded as UTF-8 for SQLite, the
bot or a log line. Such text is refused up front with a 422 instead of
failing with a 500 after the citizen's message is half processed.
"""
from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(value: str) -> bool:
    return UNSTORABLE.search(value) is None
