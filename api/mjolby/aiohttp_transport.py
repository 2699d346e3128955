"""An httpx transport that sends requests with aiohttp.

The gateway asks Rasa once per citizen message. httpcore's connection pool
checks every pooled connection for readability (a system call each) before
every request, so with fifty conversations in flight a quarter of the API's
CPU went to choosing a connection. aiohttp learns that a pooled connection
closed from the event loop and picks one in constant time.

RasaClient keeps httpx's interface (its tests plug in httpx.MockTransport);
this transport is what it sends with otherwise. aiohttp's errors become the
httpx errors RasaClient reasons about: nothing reached the server
(ConnectError, ConnectTimeout: another replica may take the message) or
something may have (timeouts and broken answers: it may not).
"""
from __future__ import annotations

import asyncio

import aiohttp
import httpx

# Below the keep-alive timeout of Rasa's web server (Sanic, 5 s), so the client
# closes an idle connection before the server does and never sends on one the
# server is just closing.
KEEPALIVE_SECONDS = 4.0
# Headers aiohttp sets itself from the request it sends.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=KEEPALIVE_SECONDS),
                auto_decompress=False,  # httpx decodes the body by its Content-Encoding
                trust_env=False,  # Rasa is on a private address; never via a proxy
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.get("connect"),
                                        sock_read=timeouts.get("read"))
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _OWN_HEADERS]
        body = await request.aread()
        try:
            async with self._client().request(
                request.method, str(request.url), headers=headers, data=body or None,
                timeout=timeout, allow_redirects=False,
            ) as response:
                content = await response.read()
                return httpx.Response(
                    response.status,
                    headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
                    content=content,
                    request=request,
                )
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timeout", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except (aiohttp.SocketTimeoutError, asyncio.TimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timeout", request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc) or "server disconnected", request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
