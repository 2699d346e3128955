"""A small in-process stand-in for the chat API, for the widget's tests.

It follows the chat API contract (shared/CONTRACT.md) and the extras the
widget relies on: conversations, messages with `?after=`, a Server-Sent
Events route, the `queue` field, quick-reply payloads, the 1-5 rating
after a handover and "Fick du svar på din fråga?" under answers. On top of that, tests can script what staff do (join,
reply, close) and what goes wrong (server down, 413, 429, no push route).

It also serves the built widget under /widget/ and a few host pages that
embed it with the script tag, the way the municipality's site would.

Every JSON body and every pushed event it sends goes through the API's own
response models (mjolby.conversations.schemas), so it has exactly the shape
the real API gives. A body those models reject is a test failure
(`contract_errors`), not something the widget gets to see.
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from pydantic import BaseModel, TypeAdapter, ValidationError

from mjolby.conversations.schemas import ConversationOut, ErrorOut, MessageOut, MessagesOut, Queue, StateName
from mjolby.feedback.schemas import FeedbackOut
from mjolby_pii import MASK, mask_text

MAX_CHARS = 2000
BEHAVIOUR_TOPICS = {"greet", "handover_request", "sensitive_data_shared", "out_of_scope", "goodbye_thanks",
                    "bot_challenge"}

BYGGLOV_LINKS = [
    {"title": "Bygglov på mjolby.se", "url": "https://www.mjolby.se/bygga-bo-miljo/bygga-nytt-andra-eller-riva/bygglov"},
    {"title": "Bygglovsguide för hus", "url": "https://www.mjolby.se/bygga-bo-miljo/bygga-nytt-andra-eller-riva/bygglovsguide/hus"},
]

HOST_PAGE = """<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – Mjölby kommun</title>
<style>
 body {{ margin: 0; font-family: Georgia, serif; color: #222; }}
 header {{ background: #eee; padding: 1rem; }}
 main {{ max-width: 50rem; margin: 0 auto; padding: 1rem; }}
 a {{ color: #064; }}
 {extra_css}
</style></head>
<body>
<header><a href="/">Mjölby kommun</a> <nav aria-label="Huvudmeny"><a href="/annan-sida.html">Bygga, bo och miljö</a></nav></header>
<main>
<h1>{title}</h1>
<p>Här hittar du information om kommunens service. Har du en fråga kan du chatta med oss.</p>
<p><button type="button">En knapp på sidan</button></p>
</main>
<script src="/widget/widget.js" data-api="{api}" defer></script>
</body></html>
"""

# Host CSS that would wreck an unprotected widget: the widget must look the
# same on this page as on the plain one.
HOSTILE_CSS = """
 * { font-family: "Comic Sans MS", cursive !important; color: #f0f !important; letter-spacing: 3px !important; }
 button { display: none !important; background: yellow !important; }
 div { border: 5px dashed red !important; padding: 40px !important; }
 textarea { width: 10px !important; }
 html { font-size: 8px; }
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


_STATE = TypeAdapter(StateName)


def as_the_api_sends(model: type[BaseModel], body: dict) -> dict:
    """`body` as the real API would serialise it through `model` (ValidationError if it cannot)."""
    return model.model_validate(body).model_dump(mode="json")


def as_the_api_pushes(event: dict) -> dict:
    """A pushed event: a message (MessageOut), or the state with the queue while queued."""
    if "sender" in event:
        return as_the_api_sends(MessageOut, event)
    if set(event) - {"state", "queue"}:
        raise ValueError(f"a state event has only state and queue, not {sorted(event)}")
    out = {"state": _STATE.validate_python(event["state"])}
    if "queue" in event:
        out["queue"] = Queue.model_validate(event["queue"]).model_dump(mode="json")
    return out


class Conversation:
    def __init__(self, cid: str):
        self.id = cid
        self.state = "bot"
        self.queue: dict | None = None
        self.messages: list[dict] = []
        self.events: list[dict] = []  # what the push route streams, in order
        self.offered_handover = False
        self.ratings: list[int] = []
        # "Fick du svar på din fråga?": message id -> (helped, masked comment)
        self.feedback: dict[str, tuple[bool, str | None]] = {}


class FakeChatServer:
    """Thread-safe fake of the chat API. Start with start(), stop with stop()."""

    def __init__(self, dist: Path):
        self.dist = dist
        self.conversations: dict[str, Conversation] = {}
        self.cond = threading.Condition()
        self.down_mode: str | None = None  # None, "503" or "reset"
        self.sse_enabled = True
        self.failures: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.contract_errors: list[str] = []  # bodies the API's response models refused
        self.stopping = False
        self._next_cid = 0
        self.httpd: ThreadingHTTPServer | None = None

    # ---- lifecycle ----
    def start(self) -> "FakeChatServer":
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def reset(self) -> None:
        """Forget everything between tests, keep the server running."""
        with self.cond:
            self.conversations.clear()
            self.down_mode = None
            self.sse_enabled = True
            self.failures.clear()
            self.requests.clear()
            self.contract_errors.clear()
            self.cond.notify_all()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return "http://%s:%d" % (host, port)

    # ---- faults ----
    def down(self, mode: str = "reset") -> None:
        """"reset": connections are dropped without an answer; "503": the
        server answers 503 Service Unavailable."""
        with self.cond:
            self.down_mode = mode
            self.cond.notify_all()

    def up(self) -> None:
        with self.cond:
            self.down_mode = None

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None, route: str = "/messages", method: str = "POST") -> None:
        with self.cond:
            self.failures.append({"status": status, "times": times, "retry_after": retry_after, "route": route, "method": method})

    # ---- staff side ----
    def conversation(self, cid: str) -> Conversation:
        with self.cond:
            return self.conversations[cid]

    def set_queue(self, cid: str, position: int, wait: int) -> None:
        with self.cond:
            conv = self.conversations[cid]
            self._set_state(conv, "queued", {"position": position, "estimated_wait_minutes": wait})

    def join(self, cid: str, name: str = "Anna") -> None:
        with self.cond:
            conv = self.conversations[cid]
            self._set_state(conv, "agent")
            self._add(conv, "system", "%s på Medborgarservice har anslutit till chatten." % name)

    def reply(self, cid: str, text: str, name: str = "Anna") -> None:
        with self.cond:
            self._add(self.conversations[cid], "agent", text, agent_name=name)

    def close(self, cid: str) -> None:
        """Staff close the case: the conversation ends and returns to the
        bot, which asks for a rating."""
        with self.cond:
            conv = self.conversations[cid]
            self._add(conv, "system", "Samtalet med Medborgarservice är avslutat.")
            self._set_state(conv, "bot")
            self._add(conv, "bot", "Fick du den hjälp du behövde? Välj ett betyg från 1 (inte alls) till 5 (helt och hållet).",
                      topic="feedback", buttons=[{"title": str(n), "payload": '/rate{"score":%d}' % n} for n in range(1, 6)])

    def user_texts(self, cid: str) -> list[str]:
        with self.cond:
            return [m["text"] for m in self.conversations[cid].messages if m["sender"] == "user"]

    # ---- internals (call with self.cond held) ----
    def _add(self, conv: Conversation, sender: str, text: str, topic=None, links=None, buttons=None, agent_name=None) -> dict:
        msg = {"id": str(len(conv.messages) + 1), "sender": sender, "text": text, "topic": topic,
               "links": links or [], "buttons": buttons or [], "created_at": now()}
        if agent_name:
            msg["agent_name"] = agent_name
        conv.messages.append(msg)
        conv.events.append(msg)
        self.cond.notify_all()
        return msg

    def _set_state(self, conv: Conversation, state: str, queue: dict | None = None) -> None:
        conv.state = state
        conv.queue = queue if state == "queued" else None
        event = {"state": state}
        if conv.queue:
            event["queue"] = conv.queue
        conv.events.append(event)
        self.cond.notify_all()

    def _take_failure(self, method: str, path: str) -> dict | None:
        for f in self.failures:
            if f["method"] == method and f["route"] in path:
                f["times"] -= 1
                if f["times"] <= 0:
                    self.failures.remove(f)
                return f
        return None

    def _create(self) -> Conversation:
        self._next_cid += 1
        conv = Conversation("c%04d" % self._next_cid)
        self.conversations[conv.id] = conv
        self._add(conv, "bot", "Hej! Jag är Mjölby kommuns chattassistent. Jag svarar på frågor om kommunens service, till exempel bygglov, förskola och avfall. Vad vill du fråga om?", topic="greet")
        return conv

    def _bot_reply(self, conv: Conversation, text: str, payload: str | None) -> list[dict]:
        """The canned assistant: just enough behaviour to drive the widget."""
        replies = []
        low = text.lower()
        if payload and payload.startswith("/rate"):
            score = int(re.search(r"\d", payload).group())
            conv.ratings.append(score)
            replies.append(self._add(conv, "bot", "Tack för ditt betyg! Det hjälper oss att bli bättre.", topic="handover_request"))
        elif payload == "/cancel_handover":
            replies.append(self._add(conv, "bot", "Okej, du står inte längre i kö. Du kan fortsätta fråga mig, eller ringa Medborgarservice på 010-234 50 00.", topic="handover_request"))
        elif conv.offered_handover and (payload == "/handover_yes" or low.startswith("ja")):
            conv.offered_handover = False
            queued = sum(1 for c in self.conversations.values() if c.state == "queued") + 1
            self._set_state(conv, "queued", {"position": queued, "estimated_wait_minutes": 3 * queued})
            replies.append(self._add(conv, "bot", "Du står nu i kö till Medborgarservice. Du kan skriva ditt ärende här medan du väntar.", topic="handover_request"))
        elif conv.offered_handover and (payload == "/handover_no" or low.startswith("nej")):
            conv.offered_handover = False
            replies.append(self._add(conv, "bot", "Okej! Fråga gärna något annat.", topic="handover_request"))
        elif MASK in text:
            replies.append(self._add(conv, "bot", "Jag har tagit bort personnumret från ditt meddelande. Skriv inte personnummer eller andra känsliga uppgifter i chatten. Har du ett känsligt ärende kan du ringa Medborgarservice på 010-234 50 00 eller be din handläggare skicka ett säkert meddelande till dig via SEFOS.", topic="sensitive_data_shared"))
        elif re.search(r"människa|person|medarbetare|handläggare", low):
            conv.offered_handover = True
            replies.append(self._add(conv, "bot", "Vill du att jag kopplar dig till en medarbetare på Medborgarservice?", topic="handover_request",
                                     buttons=[{"title": "Ja, koppla mig", "payload": "/handover_yes"}, {"title": "Nej tack", "payload": "/handover_no"}]))
        elif "inte leva" in low:
            replies.append(self._add(conv, "bot", "Är det akut, ring 112. Du kan också prata med Självmordslinjen på 90101. Vill du prata med en medarbetare på Medborgarservice?", topic="kris_akut_hjalp"))
        elif "bygglov" in low or "garage" in low:
            replies.append(self._add(conv, "bot", "Bygglov söker du digitalt med BankID i kommunens e-tjänst. På sidan om bygglov ser du vilka handlingar som behövs. Du får inte börja bygga förrän du har fått ett startbesked.", topic="bygglov", links=BYGGLOV_LINKS))
        else:
            replies.append(self._add(conv, "bot", "Det kan jag tyvärr inte svara på. Du kan fråga på ett annat sätt, eller prata med en medarbetare på Medborgarservice.", topic=None))
        return replies


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # Dropped connections are part of the simulated outages.
        pass


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeChatServer
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # keep test output readable
        pass

    # ---- helpers ----
    def _json(self, status: int, body: dict, headers: dict | None = None,
              model: type[BaseModel] | None = None) -> None:
        if urlparse(self.path).path.startswith("/api/"):
            model = model or (ErrorOut if status >= 400 else None)
            assert model is not None, f"no response model for {status} on {self.path}"
            try:
                body = as_the_api_sends(model, body)
            except ValidationError as exc:
                self.server_fake.contract_errors.append(f"{self.command} {self.path} {status}: {exc}")
                status, body = 500, {"detail": "The fake answered outside the API's response models."}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _file(self, path: Path, ctype: str) -> None:
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _html(self, html: str) -> None:
        data = html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _api_gate(self, method: str, path: str) -> bool:
        """Applies simulated outages and injected failures. True = handled."""
        fake = self.server_fake
        with fake.cond:
            mode = fake.down_mode
            failure = None if mode else fake._take_failure(method, path)
        if mode == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if mode == "503":
            self._json(503, {"detail": "Tjänsten är inte tillgänglig just nu."})
            return True
        if failure:
            headers = {}
            if failure["retry_after"] is not None:
                headers["Retry-After"] = str(failure["retry_after"])
            detail = {413: "Meddelandet är för långt.", 429: "För många meddelanden."}.get(failure["status"], "Fel.")
            self._json(failure["status"], {"detail": detail}, headers)
            return True
        return False

    # ---- routes ----
    def do_GET(self) -> None:
        fake = self.server_fake
        url = urlparse(self.path)
        fake.requests.append(("GET", url.path))
        if url.path in ("/", "/index.html"):
            return self._html(HOST_PAGE.format(title="Välkommen till Mjölby kommun", api="", extra_css=""))
        if url.path == "/annan-sida.html":
            return self._html(HOST_PAGE.format(title="Bygga, bo och miljö", api="", extra_css=""))
        if url.path == "/host-styles.html":
            return self._html(HOST_PAGE.format(title="Sida med egen stil", api="", extra_css=HOSTILE_CSS))
        if url.path.startswith("/widget/"):
            name = url.path[len("/widget/"):]
            target = (fake.dist / name).resolve()
            if name and target.parent == fake.dist.resolve() and target.is_file():
                ctype = "text/javascript; charset=utf-8" if name.endswith(".js") else "text/html; charset=utf-8"
                return self._file(target, ctype)
            return self._json(404, {"detail": "Not found"})
        m = re.fullmatch(r"/api/v1/conversations/([^/]+)/(messages|events)", url.path)
        if not m:
            return self._json(404, {"detail": "Not found"})
        if self._api_gate("GET", url.path):
            return
        cid, kind = m.groups()
        after = parse_qs(url.query).get("after", [None])[0]
        with fake.cond:
            conv = fake.conversations.get(cid)
            if conv is None:
                return self._json(404, {"detail": "Okänd konversation."})
            if kind == "messages":
                start = int(after) if after and after.isdigit() else 0
                body = {"state": conv.state, "messages": [m for m in conv.messages if int(m["id"]) > start]}
                if conv.queue:
                    body["queue"] = conv.queue
                return self._json(200, body, model=MessagesOut)
            if not fake.sse_enabled:
                return self._json(404, {"detail": "Not found"})
            cursor = len(conv.events)
        self._stream(conv, cursor)

    def _stream(self, conv: Conversation, cursor: int) -> None:
        fake = self.server_fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        try:
            self.wfile.write(b": connected\n\n")
            self.wfile.flush()
            last_write = time.monotonic()
            while True:
                with fake.cond:
                    fake.cond.wait_for(lambda: len(conv.events) > cursor or fake.down_mode or fake.stopping or not fake.sse_enabled, timeout=1.0)
                    if fake.down_mode or fake.stopping or not fake.sse_enabled or fake.conversations.get(conv.id) is not conv:
                        return
                    new, cursor = conv.events[cursor:], len(conv.events)
                for event in new:
                    try:
                        event = as_the_api_pushes(event)
                    except (ValidationError, ValueError) as exc:
                        fake.contract_errors.append(f"pushed event {event}: {exc}")
                        return
                    self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                if new or time.monotonic() - last_write > 10:
                    if not new:
                        self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    last_write = time.monotonic()
        except (BrokenPipeError, ConnectionResetError):
            return

    def do_POST(self) -> None:
        fake = self.server_fake
        url = urlparse(self.path)
        fake.requests.append(("POST", url.path))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self._api_gate("POST", url.path):
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(422, {"detail": "Ogiltig JSON."})
        if url.path == "/api/v1/conversations":
            with fake.cond:
                conv = fake._create()
                return self._json(201, {"conversation_id": conv.id, "state": conv.state, "messages": list(conv.messages)},
                                  model=ConversationOut)
        m = re.fullmatch(r"/api/v1/conversations/([^/]+)/messages/([^/]+)/feedback", url.path)
        if m:
            return self._feedback(m.group(1), m.group(2), body)
        m = re.fullmatch(r"/api/v1/conversations/([^/]+)/messages", url.path)
        if not m:
            return self._json(404, {"detail": "Not found"})
        text, payload = body.get("text"), body.get("payload")
        if not isinstance(text, str) or not text.strip() or (payload is not None and not isinstance(payload, str)):
            return self._json(422, {"detail": "text måste vara en sträng."})
        if len(text) > MAX_CHARS:
            return self._json(413, {"detail": "Meddelandet är för långt."})
        with fake.cond:
            conv = fake.conversations.get(m.group(1))
            if conv is None:
                return self._json(404, {"detail": "Okänd konversation."})
            masked = mask_text(text)
            fake._add(conv, "user", masked)
            if payload == "/cancel_handover" and conv.state == "queued":
                fake._set_state(conv, "bot")
            replies = fake._bot_reply(conv, masked, payload) if conv.state in ("bot", "closed") else []
            out = {"state": conv.state, "messages": replies}
            if conv.queue:
                out["queue"] = conv.queue
            return self._json(200, out, model=MessagesOut)

    def _feedback(self, cid: str, message_id: str, body: dict) -> None:
        """POST .../messages/{id}/feedback as the API answers it (mjolby.feedback.router)."""
        fake = self.server_fake
        helped, comment = body.get("helped"), body.get("comment")
        if not isinstance(helped, bool) or (comment is not None and not isinstance(comment, str)):
            return self._json(422, {"detail": "Förfrågan har fel format."})
        if comment is not None and len(comment) > 500:
            return self._json(413, {"detail": "Kommentaren är för lång. Skriv högst 500 tecken."})
        with fake.cond:
            conv = fake.conversations.get(cid)
            answer = next((x for x in conv.messages if x["id"] == message_id), None) if conv else None
            if answer is None:
                return self._json(404, {"detail": "Det finns inget sådant svar i konversationen."})
            if answer["sender"] != "bot" or not answer["topic"] or answer["topic"] in BEHAVIOUR_TOPICS:
                return self._json(404, {"detail": "Det går bara att svara på frågan under ett svar från chattassistenten."})
            if message_id in conv.feedback:
                return self._json(409, {"detail": "Du har redan svarat på den här frågan. Tack!"})
            conv.feedback[message_id] = (helped, mask_text(comment.strip()) if comment and not helped else None)
        return self._json(201, {"message_id": message_id, "helped": helped}, model=FeedbackOut)
