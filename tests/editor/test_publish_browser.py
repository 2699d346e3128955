"""Publishing in Debian's Chromium against the whole assistant (API, Rasa,
action server and the training worker, started by scripts/start.sh).

- An editor adds examples, trains, sees the candidate's evaluation, tries it,
  publishes it, and the public chat API answers with it within seconds.
- Rolling back to the first version is one click and needs no training.
- Publishing while citizens are chatting drops no message.
- A candidate that lowers held-out accuracy is refused; an editor cannot
  publish it.
- axe finds no WCAG 2.1 AA violation on the page, at 320 px too.

The stack is this module's own (its own data folder and ports): the tests
change its published model.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "console"))
sys.path.insert(0, str(HERE.parent / "handover"))

from console_support import assert_no_axe_violations  # noqa: E402
from live_support import PASSWORD, create_staff  # noqa: E402

pytestmark = [pytest.mark.live, pytest.mark.browser]

EDITOR = "publicerare@mjolby.se"
# A new word only the added examples teach: before them the bot cannot place it.
TOPIC = "lokalbokning"
EXAMPLES = ["hur bokar jag bastuflotten", "kan man hyra bastuflotten en lördag",
            "vad kostar det att boka bastuflotten", "är bastuflotten ledig i helgen"]
QUESTION = "bastuflotten ledig på fredag"
# Training, evaluating and loading on two shared cores.
TRAINED_WITHIN_MS = 600_000
SWAPPED_WITHIN_SECONDS = 30


class Stack:
    def __init__(self, root: Path, port: int) -> None:
        self.data_dir = root / "var"
        (self.data_dir / "models").mkdir(parents=True)
        self.api_url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "DATA_DIR": str(self.data_dir), "API_PORT": str(port),
                    "RASA_PORT": str(port + 1), "ACTIONS_PORT": str(port + 2), "ENVIRONMENT": "development",
                    "INTERNAL_API_TOKEN": "test-" + uuid.uuid4().hex, "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
                    "RATE_LIMIT_CONVERSATION_PER_MINUTE": "0"}

    def start(self) -> None:
        subprocess.run([str(REPO / "scripts/train.sh")], env=self.env, check=True, capture_output=True)
        result = subprocess.run([str(REPO / "scripts/start.sh")], env=self.env, capture_output=True, text=True,
                                timeout=400)
        assert result.returncode == 0, result.stdout + result.stderr

    def stop(self) -> None:
        subprocess.run([str(REPO / "scripts/stop.sh")], env=self.env, check=False, capture_output=True)

    def api(self) -> "httpx.Client":
        import httpx

        return httpx.Client(base_url=self.api_url, timeout=30)

    def topic_of(self, text: str) -> str | None:
        with self.api() as client:
            conv = client.post("/api/v1/conversations", json={"locale": "sv"}).json()["conversation_id"]
            reply = client.post(f"/api/v1/conversations/{conv}/messages", json={"text": text})
            assert reply.status_code == 200, reply.text
            return next((m["topic"] for m in reply.json()["messages"] if m["sender"] == "bot" and m["topic"]), None)

    def wait_for_topic(self, text: str, expected: str | None, seconds: float) -> float:
        """Seconds until the chat answers `text` with `expected` (or anything else, for None)."""
        started = time.monotonic()
        while True:
            topic = self.topic_of(text)
            if (topic == expected) if expected else (topic != TOPIC):
                return time.monotonic() - started
            assert time.monotonic() - started < seconds, f"still {topic!r} after {seconds} s"
            time.sleep(1)

    def add_examples(self, topic: str, examples: list[str]) -> None:
        """What an editor does on the topic page or from the inbox (mjolby.knowledge_store)."""
        code = ("import sys\nfrom sqlalchemy import select\nfrom mjolby.config import get_settings\n"
                "from mjolby.db import Database\nfrom mjolby.knowledge_store import service\n"
                "from mjolby.staff.models import StaffUser\nfrom mjolby.staff.service import StaffContext\n"
                "with Database(get_settings().database_url).session() as db:\n"
                f"    user = db.scalars(select(StaffUser).where(StaffUser.email == {EDITOR!r})).one()\n"
                "    by = StaffContext(user.id, user.email, '', user.role, '', '')\n"
                "    for text in sys.argv[2:]:\n        service.add_example(db, sys.argv[1], text, by)\n")
        subprocess.run([sys.executable, "-c", code, topic, *examples], cwd=REPO / "api", env=self.env, check=True,
                       capture_output=True)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="mjolby-publish-"))
    stack = Stack(root, int(os.environ.get("PUBLISH_STACK_PORT", "18700")))
    try:
        stack.start()
        create_staff(stack.env, EDITOR, "editor", "Petra")
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(stack.api_url + "/staff/editor/publicera")
    page.get_by_label("E-postadress").fill(EDITOR)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url("**/staff/editor/publicera")
    yield page
    context.close()


def train(page) -> None:
    """Start a training from the page and follow it until the result shows."""
    from playwright.sync_api import expect

    page.get_by_label("Vad har ändrats? (valfritt, syns i versionslistan)").fill("Bastuflotten")
    page.get_by_role("button", name="Träna ny modell").click()
    expect(page.locator("#job-progress")).to_be_visible()
    expect(page.locator("#job-phase")).not_to_be_empty()
    # The editor may leave and come back: the page still shows the running training.
    page.goto(page.url.split("?")[0])
    page.wait_for_selector("#eval-heading", timeout=TRAINED_WITHIN_MS)


class Load:
    """Citizens chatting through the public API while the model is swapped."""

    def __init__(self, stack: Stack, workers: int = 3) -> None:
        self.stack = stack
        self.errors: list[str] = []
        self.answered = 0
        self.running = True
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def _run(self) -> None:
        questions = ["när hämtas soporna", "behöver jag bygglov för ett garage", QUESTION, "hej"]
        with self.stack.api() as client:
            n = 0
            while self.running:
                n += 1
                try:
                    start = client.post("/api/v1/conversations", json={"locale": "sv"})
                    conv = start.json()["conversation_id"]
                    reply = client.post(f"/api/v1/conversations/{conv}/messages",
                                        json={"text": questions[n % len(questions)]})
                    if reply.status_code != 200 or not any(m["sender"] == "bot" for m in reply.json()["messages"]):
                        self.errors.append(f"{reply.status_code}: {reply.text[:200]}")
                    else:
                        self.answered += 1
                except Exception as exc:  # noqa: BLE001 - every failure counts
                    self.errors.append(repr(exc))

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=60)


def test_publish_see_the_evaluation_try_it_and_the_chat_answers_with_it(stack, page):
    from playwright.sync_api import expect

    assert stack.topic_of(QUESTION) != TOPIC, "the published model must not know the new word yet"
    assert_no_axe_violations(page, "the publish page with the first version")
    stack.add_examples(TOPIC, EXAMPLES)
    train(page)
    expect(page.locator("#gate-result")).to_contain_text("godkände")
    expect(page.locator("#candidate-accuracy")).to_contain_text("%")
    expect(page.get_by_text("4 nya exempel")).to_be_visible()
    assert_no_axe_violations(page, "the candidate's evaluation")

    # Try it: the candidate answers before it is published; the chat does not yet.
    page.get_by_label("Skriv som en medborgare").fill(QUESTION)
    page.get_by_role("button", name="Fråga den nya modellen").click()
    expect(page.locator("#try-topic")).to_contain_text("Boka lokal")
    expect(page.locator("#try-confidence")).to_contain_text("%")
    assert stack.topic_of(QUESTION) != TOPIC

    page.get_by_role("button", name="Publicera modellen").click()
    expect(page.get_by_role("status").first).to_contain_text("Modellen är publicerad")
    waited = stack.wait_for_topic(QUESTION, TOPIC, SWAPPED_WITHIN_SECONDS)
    print(f"answered by the new model {waited:.1f} s after publishing")
    expect(page.locator("#versions-heading")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Publicerad nu")).to_contain_text("Bastuflotten")


def swap_under_load(stack: Stack, page, button: str, notice: str, expected: str | None) -> None:
    """Press `button` while citizens chat; every message must be answered."""
    from playwright.sync_api import expect

    with Load(stack) as load:
        time.sleep(2)
        page.get_by_role("button", name=button).click()
        expect(page.get_by_role("status").first).to_contain_text(notice)
        waited = stack.wait_for_topic(QUESTION, expected, SWAPPED_WITHIN_SECONDS)
        time.sleep(3)
    print(f"{button}: swapped in {waited:.1f} s; {load.answered} messages answered during it")
    assert load.errors == [] and load.answered > 0


def test_rollback_is_one_click_and_drops_no_message(stack, page):
    from playwright.sync_api import expect

    swap_under_load(stack, page, "Återställ version 1", "Versionen är återställd", None)
    expect(page.get_by_role("row").filter(has_text="Publicerad nu")).to_contain_text("Modellen från installationen")


def test_publishing_under_load_drops_no_message(stack, page):
    train(page)  # the same knowledge as the published version 2, trained again
    swap_under_load(stack, page, "Publicera modellen", "Modellen är publicerad", TOPIC)


def test_a_publish_that_lowers_accuracy_is_refused(stack, page):
    from playwright.sync_api import expect

    # Twenty held-out messages (never trained on) taught as the wrong topic: the
    # candidate gets them wrong, far more than two points of the held-out set.
    # (Messages that are examples already would be refused as belonging to another topic;
    # tests/knowledge/test_bench_messages.py reports those.)
    held = yaml.safe_load((REPO / "tools/data/bench_messages.yml").read_text(encoding="utf-8"))["items"]
    known = {" ".join(str(e).split()).casefold() for path in (REPO / "knowledge").glob("*.yml")
             for e in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("examples") or []}
    held = [i for i in held if " ".join(i["text"].split()).casefold() not in known]
    wrong = [i["text"] for i in held if i["expect"] == "avfall_hamtning"][:10]
    wrong += [i["text"] for i in held if i["expect"] == "bygglov"][:10]
    stack.add_examples("bibliotek", wrong)
    train(page)
    expect(page.locator("#gate-result")).to_contain_text("Träffsäkerheten sjunker")
    expect(page.get_by_role("button", name="Publicera modellen")).to_have_count(0)
    expect(page.get_by_role("button", name="Publicera ändå")).to_have_count(0)  # editors cannot override
    expect(page.get_by_text("be en administratör")).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 800})
    assert_no_axe_violations(page, "a refused candidate at 320 px")
    page.get_by_role("button", name="Kasta den nya modellen").click()
    expect(page.get_by_role("status").first).to_contain_text("kastad")
    assert stack.topic_of(QUESTION) == TOPIC  # the published model is untouched
