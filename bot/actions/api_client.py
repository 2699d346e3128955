"""Thin client for the API gateway's internal routes (handover, hours, contact requests).

Every call is bounded by API_TIMEOUT_SECONDS in total, so a slow or missing API
never keeps the citizen waiting for more than a few seconds. Callers catch
`ApiUnavailable` and answer with the phone number instead.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional

import httpx

from . import settings

logger = logging.getLogger(__name__)


class ApiUnavailable(Exception):
    """The API could not be reached, timed out or answered with a server error."""


class ApiRefused(Exception):
    """The API answered with a 4xx status (the request itself was not accepted)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"API refused the request with status {status}")
        self.status = status
        self.body = body

    @property
    def code(self) -> Optional[str]:
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        if isinstance(detail, dict):
            return detail.get("code")
        return self.body.get("code") if isinstance(self.body, dict) else None


async def _request(method: str, path: str, json: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    timeout = settings.API_TIMEOUT_SECONDS
    headers = {"Authorization": f"Bearer {settings.INTERNAL_API_TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=settings.API_URL, timeout=timeout, headers=headers) as client:
            response = await asyncio.wait_for(client.request(method, path, json=json), timeout)
    except (httpx.HTTPError, asyncio.TimeoutError, OSError) as exc:
        logger.warning("Internal API %s %s failed: %s", method, path, type(exc).__name__)
        raise ApiUnavailable(type(exc).__name__) from exc
    if response.status_code >= 500:
        logger.warning("Internal API %s %s answered %s", method, path, response.status_code)
        raise ApiUnavailable(f"status {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ApiUnavailable("the answer was not JSON") from exc
    if response.status_code >= 400:
        logger.info("Internal API %s %s refused with %s", method, path, response.status_code)
        raise ApiRefused(response.status_code, body)
    return body


async def service_status() -> Dict[str, Any]:
    """Opening hours, staff online and queue length right now."""
    return await _request("GET", "/api/v1/internal/service-status")


async def create_case(conversation_id: str, reason: str, topic: Optional[str]) -> Dict[str, Any]:
    """Queue the conversation for Medborgarservice. Answers {case_id, state, queue}."""
    return await _request(
        "POST",
        "/api/v1/internal/handover/cases",
        {"conversation_id": conversation_id, "reason": reason, "topic": topic},
    )


async def create_contact_request(
    conversation_id: str,
    *,
    name: str,
    phone: Optional[str],
    email: Optional[str],
    reason: str = "callback",
    topic: Optional[str] = None,
) -> Dict[str, Any]:
    """Store a request to be contacted (reason "callback" or "sensitive_data")."""
    return await _request(
        "POST",
        "/api/v1/internal/contact-requests",
        {
            "conversation_id": conversation_id,
            "name": name,
            "phone": phone,
            "email": email,
            "reason": reason,
            "topic": topic,
        },
    )


async def rate_case(conversation_id: str, rating: int) -> Dict[str, Any]:
    return await _request(
        "POST", f"/api/v1/internal/conversations/{conversation_id}/rating", {"rating": rating}
    )
