"""Helpers of the handover API tests: the stand-in bot, a signed-in staff member, a citizen."""
from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from live_support import INTERNAL_TOKEN, PASSWORD  # noqa: F401 - one place for both



class HandoverBot:
    """Answers like Rasa's gateway channel; runs the handover actions' API calls."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None
        self.received: list[str] = []
        self.transport = httpx.MockTransport(self.handle)

    async def internal(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        assert self.app is not None
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://api") as client:
            return await client.request(method, path, json=body,
                                        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})

    @staticmethod
    def message(text: str, topic: str | None = "handover_request",
                buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
        return {"text": text, "buttons": buttons or [], "topic": topic, "links": [], "custom": None}

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/webhooks/gateway/health", "/health"):
            return httpx.Response(200, json={"status": "ok", "model": True})
        payload = json.loads(request.content)
        sender, text = payload["sender"], payload["message"]
        self.received.append(text)
        rating = re.match(r'^/rate\{"rating":\s*(\d)\}$', text)
        if rating:
            await self.internal("POST", f"/api/v1/internal/conversations/{sender}/rating", {"rating": int(rating[1])})
            return httpx.Response(200, json=[self.message("Tack för ditt svar!")])
        if "människa" in text.lower():
            created = await self.internal("POST", "/api/v1/internal/handover/cases",
                                          {"conversation_id": sender, "reason": "user_request", "topic": "bygglov"})
            if created.status_code == 201:
                queue = created.json()["queue"]
                return httpx.Response(200, json=[self.message(
                    f"Du är nummer {queue['position']} i kön och väntetiden är ungefär "
                    f"{queue['estimated_wait_minutes']} minuter.",
                    buttons=[{"title": "Avbryt väntan", "payload": "/cancel_handover"}])])
            return httpx.Response(200, json=[self.message("Ingen kan chatta just nu. Vill du att vi kontaktar dig?")])
        return httpx.Response(200, json=[self.message("Bygglov söker du i e-tjänsten.", "bygglov")])


class Staff:
    """A signed-in staff member: sends the session cookie and the CSRF header explicitly,
    so that several can share one TestClient."""

    def __init__(self, client: TestClient, email: str, password: str = PASSWORD) -> None:
        self.client = client
        response = client.post("/api/v1/staff/session", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.cookie = response.cookies["mjolby_staff"]
        self.set_cookie = response.headers["set-cookie"]
        self.csrf = response.json()["csrf_token"]
        client.cookies.clear()

    def headers(self, csrf: bool = True) -> dict[str, str]:
        headers = {"Cookie": f"mjolby_staff={self.cookie}"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(csrf=False), **kwargs)

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return self.client.post(path, json=json, headers=self.headers())

    def put(self, path: str, json: Any = None) -> httpx.Response:
        return self.client.put(path, json=json, headers=self.headers())


class Citizen:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        response = client.post("/api/v1/conversations", json={})
        assert response.status_code == 201, response.text
        self.id = response.json()["conversation_id"]

    def say(self, text: str, payload: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if payload:
            body["payload"] = payload
        response = self.client.post(f"/api/v1/conversations/{self.id}/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def messages(self, after: int | None = None) -> dict[str, Any]:
        query = f"?after={after}" if after is not None else ""
        response = self.client.get(f"/api/v1/conversations/{self.id}/messages{query}")
        assert response.status_code == 200, response.text
        return response.json()
