"""'Fick du svar på din fråga?' under the assistant's answers (issue 12).

Asked once per answer that carries a knowledge topic, with real buttons in a
labelled group; the thanks are announced politely; a Nej can carry a short
comment, which the API masks. Runs against the fake chat API, which answers
the feedback route exactly as the API's response models say.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from widget_steps import (assert_no_axe_violations, bot_messages, conversation_id, focused_in_widget, open_chat,
                          panel, send, stored)

pytestmark = pytest.mark.browser

QUESTION = "Fick du svar på din fråga?"
NUMBER = "19811228-9874"


def feedback_status(page):
    return page.locator("mjolby-chat [role=status][aria-live=polite]").filter(has_text="Tack")


def first_answer(stack, page, question: str):
    """Open the chat, ask, and return the assistant's answer."""
    page.goto(stack.base_url + "/")
    open_chat(page)
    send(page, question)
    return bot_messages(page).nth(1)


def test_ja_is_asked_once_per_answer_and_thanked_politely(fake_stack, page):
    server = fake_stack.server
    page.goto(fake_stack.base_url + "/")
    open_chat(page)
    greeting = bot_messages(page).first
    expect(greeting.get_by_role("group", name=QUESTION)).to_have_count(0)  # behaviour, not an answer

    send(page, "Behöver jag bygglov för ett garage?")
    answer = bot_messages(page).nth(1)
    group = answer.get_by_role("group", name=QUESTION)
    expect(group).to_be_visible()
    expect(group.get_by_role("button")).to_have_text(["Ja", "Nej"])
    assert_no_axe_violations(page, "feedback question")

    # Keyboard only: Tab from the answer's last link reaches Ja; Enter answers.
    answer.get_by_role("link").last.focus()
    page.keyboard.press("Tab")
    assert focused_in_widget(page) == "quick-btn|Ja"
    page.keyboard.press("Enter")

    expect(answer.locator(".fb-thanks")).to_have_text("Tack för ditt svar!")
    expect(group).to_have_count(0)
    expect(feedback_status(page)).to_have_text("Tack för ditt svar!")
    assert focused_in_widget(page).startswith("textarea")  # focus is not lost with the buttons
    cid = conversation_id(page)
    answer_id = next(m["id"] for m in stored(page)["messages"] if m.get("topic") == "bygglov")
    assert server.conversations[cid].feedback == {answer_id: (True, None)}

    # Once per answer: after a reload the thanks stay and nothing is asked again.
    page.reload()
    expect(panel(page)).to_be_visible()  # the chat stays open across pages
    answer = bot_messages(page).nth(1)
    expect(answer.locator(".fb-thanks")).to_have_text("Tack för ditt svar!")
    expect(answer.get_by_role("group", name=QUESTION)).to_have_count(0)
    assert_no_axe_violations(page, "feedback given")


def test_nej_takes_an_optional_comment_masked_by_the_api(fake_stack, page):
    server = fake_stack.server
    answer = first_answer(fake_stack, page, "Hur söker jag bygglov för en altan?")
    answer.get_by_role("group", name=QUESTION).get_by_role("button", name="Nej").click()

    comment = answer.get_by_label("Vad saknades i svaret? (frivilligt)")
    expect(comment).to_be_focused()
    expect(comment).to_have_attribute("maxlength", "500")
    expect(comment).to_have_accessible_description(
        "Skriv inte personnummer eller andra känsliga uppgifter. Högst 500 tecken.")
    assert_no_axe_violations(page, "feedback comment")
    comment.fill(f"Jag har personnummer {NUMBER} och undrar om altanen är för hög")
    answer.get_by_role("button", name="Skicka svaret").click()

    expect(answer.locator(".fb-thanks")).to_have_text("Tack! Vi använder ditt svar för att göra chatten bättre.")
    expect(feedback_status(page)).to_have_text("Tack! Vi använder ditt svar för att göra chatten bättre.")
    [(helped, stored_comment)] = server.conversations[conversation_id(page)].feedback.values()
    assert helped is False
    assert NUMBER not in stored_comment and "altanen är för hög" in stored_comment

    # The next answer is asked about on its own.
    send(page, "Och bygglov för ett plank?")
    expect(bot_messages(page).nth(2).get_by_role("group", name=QUESTION)).to_be_visible()


def test_a_failed_answer_can_be_sent_again(fake_stack, page):
    server = fake_stack.server
    answer = first_answer(fake_stack, page, "Behöver jag bygglov för ett garage?")
    yes = answer.get_by_role("group", name=QUESTION).get_by_role("button", name="Ja")
    server.fail_next(503, route="/feedback")
    yes.click()
    expect(answer.get_by_role("alert")).to_have_text("Svaret kunde inte skickas. Försök igen om en stund.")
    expect(yes).to_be_enabled()
    yes.click()
    expect(answer.locator(".fb-thanks")).to_have_text("Tack för ditt svar!")
    expect(answer.get_by_role("alert")).to_have_count(0)


def test_no_question_under_an_answer_to_a_crisis(fake_stack, page):
    answer = first_answer(fake_stack, page, "jag orkar inte, vill inte leva längre")
    expect(answer).to_contain_text("112")
    expect(answer.get_by_role("group", name=QUESTION)).to_have_count(0)
