"""The client of Rasa's gateway channel and the action server."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from mjolby.rasa_client import BotReply, BotStatus, RasaClient, RasaUnavailable, parse_reply


def client_for(handler) -> RasaClient:
    return RasaClient(rasa_url="http://rasa:5005/", action_server_url="http://actions:5055",
                      transport=httpx.MockTransport(handler))


def run(coroutine):
    return asyncio.run(coroutine)


def test_send_posts_the_contract_body_and_parses_replies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[
            {"text": "Svar", "buttons": [{"title": "Ja", "payload": "/affirm"}], "topic": "bygglov",
             "links": [{"title": "Sida", "url": "https://www.mjolby.se/x"}], "custom": None},
        ])

    async def scenario() -> list[BotReply]:
        rasa = client_for(handler)
        try:
            return await rasa.send("abc", "Hej", {"locale": "sv", "pii_masked": False})
        finally:
            await rasa.aclose()

    replies = run(scenario())
    assert str(seen[0].url) == "http://rasa:5005/webhooks/gateway/webhook"
    assert json.loads(seen[0].content) == {
        "sender": "abc", "message": "Hej", "metadata": {"locale": "sv", "pii_masked": False},
    }
    assert replies == [BotReply(text="Svar", topic="bygglov",
                                links=[{"title": "Sida", "url": "https://www.mjolby.se/x"}],
                                buttons=[{"title": "Ja", "payload": "/affirm"}])]


@pytest.mark.parametrize("response", [
    httpx.Response(500, json={"detail": "bot error"}),
    httpx.Response(504, json={"detail": "timeout"}),
    httpx.Response(200, json={"not": "a list"}),
    httpx.Response(200, text="not json"),
])
def test_bad_answers_raise_unavailable(response: httpx.Response) -> None:
    async def scenario() -> None:
        rasa = client_for(lambda request: response)
        try:
            with pytest.raises(RasaUnavailable):
                await rasa.send("abc", "Hej")
        finally:
            await rasa.aclose()

    run(scenario())


def test_parse_reply_is_forgiving_but_strict_about_shapes() -> None:
    assert parse_reply("text") is None
    reply = parse_reply({
        "text": 5, "topic": "", "custom": "x",
        "buttons": [{"title": "A", "payload": "/a"}, {"title": "B"}, "C"],
        "links": [{"title": "ok", "url": "https://a.se"}, {"title": "no", "url": "http://b.se"},
                  {"url": "https://c.se"}],
    })
    assert reply == BotReply(text=None, topic=None, links=[{"title": "ok", "url": "https://a.se"}],
                             buttons=[{"title": "A", "payload": "/a"}], custom=None)
    assert reply is not None and reply.has_content


@pytest.mark.parametrize(("rasa", "actions", "status"), [
    ((200, {"status": "ok", "model": True}), (200, {"status": "ok"}), BotStatus.READY),
    ((503, {"status": "ok", "model": False}), (200, {"status": "ok"}), BotStatus.STARTING),
    ((200, {"status": "ok", "model": True}), None, BotStatus.STARTING),
    ((200, {"status": "ok", "model": True}), (500, {}), BotStatus.STARTING),
    ((404, None), (200, {"status": "ok"}), BotStatus.STARTING),
    (None, (200, {"status": "ok"}), BotStatus.DOWN),
    (None, None, BotStatus.DOWN),
])
def test_probe(rasa, actions, status: BotStatus) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = rasa if request.url.host == "rasa" else actions
        if answer is None:
            raise httpx.ConnectError("refused", request=request)
        code, body = answer
        return httpx.Response(code, json=body) if body is not None else httpx.Response(code)

    async def scenario() -> BotStatus:
        client = client_for(handler)
        try:
            return await client.probe()
        finally:
            await client.aclose()

    assert run(scenario()) is status
