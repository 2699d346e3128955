"""Security headers on every page, no CDN-loaded API docs, and framing only where allowed."""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

PROD_SECRETS = {"environment": "production", "secret_key": "s" * 40, "internal_api_token": "t" * 40}
WIDGET_STYLE = "body{font-family:sans-serif}"


@pytest.fixture
def widget_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "widget-dist"
    folder.mkdir()
    (folder / "widget.js").write_text("(function(){})();\n")
    (folder / "om-chatten.html").write_text(
        f"<!doctype html><html lang=\"sv\"><head><style>{WIDGET_STYLE}</style></head><body>Om chatten</body></html>")
    return folder


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_staff_pages_cannot_be_framed_are_not_stored_and_send_no_referrer(client: TestClient) -> None:
    page = client.get("/staff/logga-in")
    assert page.status_code == 200
    policy = csp(page)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["script-src"] == "script-src 'self'" and "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_the_conversation_api_is_not_stored(client: TestClient, start: Callable[[], str]) -> None:
    conversation_id = start()
    for response in (client.post("/api/v1/conversations", json={}),
                     client.get(f"/api/v1/conversations/{conversation_id}"),
                     client.get(f"/api/v1/conversations/{conversation_id}/messages")):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert csp(response)["frame-ancestors"] == "frame-ancestors 'none'"
        assert csp(response)["default-src"] == "default-src 'none'"


def test_errors_carry_the_headers_too(client: TestClient) -> None:
    response = client.get("/api/v1/conversations/finns-inte")
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_demo_page_has_a_policy_and_cannot_be_framed(client: TestClient) -> None:
    page = client.get("/")
    assert csp(page)["frame-ancestors"] == "frame-ancestors 'none'"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_hsts_only_in_production(app_factory: Callable[..., FastAPI]) -> None:
    with TestClient(app_factory()) as client:
        assert "Strict-Transport-Security" not in client.get("/api/v1/health").headers
    with TestClient(app_factory(**PROD_SECRETS), base_url="https://testserver") as client:
        hsts = client.get("/api/v1/health").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")


def test_the_widget_pages_may_be_framed_by_the_configured_sites_only(app_factory: Callable[..., FastAPI],
                                                                     widget_dir: Path) -> None:
    app = app_factory(widget_dist_dir=widget_dir, frame_ancestors="https://www.mjolby.se,https://mjolby.se")
    with TestClient(app) as client:
        page = client.get("/widget/om-chatten.html")
        staff = client.get("/staff/logga-in")
    assert page.status_code == 200
    policy = csp(page)
    assert policy["frame-ancestors"] == "frame-ancestors 'self' https://www.mjolby.se https://mjolby.se"
    assert "X-Frame-Options" not in page.headers
    # The page's own inline style is allowed by its hash, nothing else inline.
    digest = base64.b64encode(hashlib.sha256(WIDGET_STYLE.encode()).digest()).decode()
    assert policy["style-src"] == f"style-src 'self' 'sha256-{digest}'"
    assert csp(staff)["frame-ancestors"] == "frame-ancestors 'none'"


def test_without_configured_sites_the_widget_pages_are_framed_by_this_site_only(
        app_factory: Callable[..., FastAPI], widget_dir: Path) -> None:
    with TestClient(app_factory(widget_dist_dir=widget_dir)) as client:
        page = client.get("/widget/om-chatten.html")
    assert csp(page)["frame-ancestors"] == "frame-ancestors 'self'"


def test_no_html_api_docs_from_a_cdn_the_openapi_document_stays(client: TestClient) -> None:
    assert client.get("/api/v1/docs").status_code == 404
    assert client.get("/api/v1/redoc").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert "cdn.jsdelivr.net" not in client.get("/").text
