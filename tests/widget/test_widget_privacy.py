"""The citizen's own messages: on screen and in sessionStorage the widget keeps
the server's copy, in which personal identity numbers are masked, and it never
writes the text as typed to sessionStorage, sent or not."""
from __future__ import annotations

import json
import unicodedata

import pytest
from playwright.sync_api import expect

from widget_steps import bot_messages, conversation_id, open_chat, send, stored

pytestmark = pytest.mark.browser

MASK = "[personnummer borttaget]"
DIGITS = "8112189876"  # valid by date and check digit
SPELLINGS = {
    "fullwidth": "\uff18\uff11\uff11\uff12\uff11\uff18\uff0d\uff19\uff18\uff17\uff16",
    "dot": "811218.9876",
    "zero-width": "81\u200b1218-98\u206076",
    "grouped": "81 12 18-9876",
}

# Every value written to sessionStorage, recorded before the widget runs.
RECORD_WRITES = """
window.__storageWrites = [];
const setItem = Storage.prototype.setItem;
Storage.prototype.setItem = function (key, value) {
  if (this === window.sessionStorage) window.__storageWrites.push(String(value));
  return setItem.call(this, key, value);
};
"""


def digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def writes(page) -> list[str]:
    return page.evaluate("window.__storageWrites")


@pytest.mark.parametrize("written", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_own_message_shows_and_keeps_the_servers_masked_copy(stack, page, written):
    page.add_init_script(RECORD_WRITES)
    page.goto(stack.base_url + "/")
    open_chat(page)
    send(page, f"Mitt personnummer är {written}, hur ansöker jag om bygglov?")
    own = page.locator("mjolby-chat .msg-user").last
    expect(own).to_contain_text(f"Mitt personnummer är {MASK}, hur ansöker jag om bygglov?")
    expect(own.locator(".pending")).to_have_count(0)
    # The server's copy is what is kept, once and masked.
    users = [m for m in stored(page)["messages"] if m["sender"] == "user"]
    assert [m["text"] for m in users] == [f"Mitt personnummer är {MASK}, hur ansöker jag om bygglov?"]
    assert all(m["id"] for m in users)
    recorded = writes(page)
    assert recorded
    assert [w for w in recorded if DIGITS in digits(w)] == []
    # It survives a reload as the masked copy.
    page.reload()
    expect(page.locator("mjolby-chat .msg-user").last).to_contain_text(MASK)
    if stack.name == "fake":
        assert stack.server.user_texts(conversation_id(page)) == [
            f"Mitt personnummer är {MASK}, hur ansöker jag om bygglov?"]


def test_unsent_and_rejected_messages_are_never_written(chat_server, page):
    page.add_init_script(RECORD_WRITES)
    page.goto(chat_server.url + "/")
    open_chat(page)
    chat_server.down("reset")
    send(page, "Mitt garage, 811218-9876")
    expect(page.locator("mjolby-chat .msg-user .pending")).to_be_visible()
    page.wait_for_timeout(1500)  # a retry or two
    assert writes(page)
    assert [w for w in writes(page) if "garage" in w or DIGITS in digits(w)] == []
    # Delivered: from now on the server's copy is kept, masked.
    chat_server.up()
    expect(page.locator("mjolby-chat .msg-user").last).to_contain_text(f"Mitt garage, {MASK}", timeout=15_000)
    # Refused by the server: the text goes back to the input, never to storage.
    chat_server.fail_next(422)
    send(page, "Andra frågan om altanen")
    expect(page.get_by_role("alert")).to_contain_text("Meddelandet gick inte att skicka")
    recorded = writes(page)
    assert [w for w in recorded if "altanen" in w or DIGITS in digits(w)] == []
    kept = json.loads(recorded[-1])
    assert "outbox" not in kept
    assert [m["text"] for m in kept["messages"] if m["sender"] == "user"] == [f"Mitt garage, {MASK}"]


def test_a_message_whose_copy_is_late_is_kept_once_it_arrives(chat_server, page):
    # The first try to fetch the server's copy fails; the next delivered
    # message fetches both.
    page.add_init_script(RECORD_WRITES)
    page.goto(chat_server.url + "/")
    open_chat(page)
    chat_server.fail_next(503, route="/messages", method="GET")
    send(page, "Mitt nummer är 811218.9876")
    expect(page.locator("mjolby-chat .msg-user .pending")).to_have_count(0)
    expect(bot_messages(page)).to_have_count(2)
    send(page, "Behöver jag bygglov?")
    own = page.locator("mjolby-chat .msg-user")
    expect(own.first).to_contain_text(f"Mitt nummer är {MASK}")
    expect(own.first).not_to_contain_text("9876")
    expect(own.last).to_contain_text("Behöver jag bygglov?")
    users = [m["text"] for m in stored(page)["messages"] if m["sender"] == "user"]
    assert users == [f"Mitt nummer är {MASK}", "Behöver jag bygglov?"]
    assert [w for w in writes(page) if DIGITS in digits(w)] == []
