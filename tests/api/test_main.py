"""The demo page at "/" and the widget, when it is built."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

WIDGET_TAG = '<script src="/widget/widget.js" data-api="" defer></script>'


def test_demo_page_is_swedish_and_accessible(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="sv">' in html
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert "<h1>Välkommen till Mjölby kommun</h1>" in html
    assert 'href="#innehall"' in html  # skip link
    assert "010-234 50 00" in html and "0142-850 00" not in html


def test_without_the_widget_the_page_gives_the_phone_number(client: TestClient) -> None:
    html = client.get("/").text
    assert WIDGET_TAG not in html
    assert "<script" not in html
    assert "Chatten är inte tillgänglig på den här sidan just nu. Ring Medborgarservice på 010-234 50 00." in html
    assert client.get("/static/site.css").status_code == 200
    assert client.get("/static/chat.js").status_code == 404
    assert client.get("/widget/widget.js").status_code == 404


def test_widget_is_served_and_included_when_built(app_factory: Callable[..., FastAPI],
                                                  tmp_path: Path) -> None:
    dist = tmp_path / "widget-dist"
    dist.mkdir()
    (dist / "widget.js").write_text("/* widget */", encoding="utf-8")
    with TestClient(app_factory(widget_dist_dir=dist)) as client:
        html = client.get("/").text
        assert WIDGET_TAG in html
        assert "Chatten är inte tillgänglig" not in html
        response = client.get("/widget/widget.js")
        assert response.status_code == 200
        assert response.text == "/* widget */"


def test_cors_only_for_configured_origins(app_factory: Callable[..., FastAPI]) -> None:
    with TestClient(app_factory(cors_allow_origins=["https://www.mjolby.se"])) as client:
        allowed = client.options("/api/v1/conversations", headers={
            "Origin": "https://www.mjolby.se", "Access-Control-Request-Method": "POST"})
        assert allowed.headers.get("access-control-allow-origin") == "https://www.mjolby.se"
        other = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
