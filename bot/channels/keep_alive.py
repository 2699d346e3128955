"""Keep Rasa's connections to the action server (and model server) open.

Rasa 3.6 opens a new aiohttp ClientSession, and so a new TCP connection, for
every call to an endpoint: every custom action of every message paid for a
connection set-up and tear-down on Rasa's single event loop. Here each
endpoint keeps one session with a connection pool for the life of the
process. A pooled connection that the other side closed (an action server
restart) fails one call, which Rasa already reports as an action error; the
pool then connects afresh.
"""
from __future__ import annotations

from typing import Any

import aiohttp
from rasa.utils.endpoints import EndpointConfig

_open_session = EndpointConfig.session


class _KeptSession:
    """What `async with endpoint.session() as session` gets: the endpoint's open session."""

    def __init__(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint

    async def __aenter__(self) -> aiohttp.ClientSession:
        session = getattr(self.endpoint, "_kept_session", None)
        if session is None or session.closed:
            session = _open_session(self.endpoint)
            self.endpoint._kept_session = session  # type: ignore[attr-defined]
        return session

    async def __aexit__(self, *exc: Any) -> bool:
        return False


def _session(self: EndpointConfig) -> _KeptSession:
    return _KeptSession(self)


def install() -> None:
    EndpointConfig.session = _session  # type: ignore[method-assign]
