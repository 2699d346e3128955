"""The citizen's flows from issue 5, run against the fake chat API and,
once it is wired, the real stack (see conftest.py)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from widget_steps import (PHONE, assert_no_axe_violations, bot_messages, conversation_id, focused_in_widget, launcher,
                     message_input, open_chat, panel, send, stored)

pytestmark = pytest.mark.browser


def test_routine_question_gets_answer_with_working_link(stack, page):
    page.goto(stack.base_url + "/")
    expect(launcher(page)).to_be_visible()
    assert_no_axe_violations(page, "closed")

    open_chat(page)
    expect(page.get_by_text("Du chattar med en automatisk assistent.")).to_be_visible()
    expect(page.get_by_text("Skriv inte ditt personnummer")).to_be_visible()
    data_link = page.get_by_role("link", name=re.compile("Så hanterar vi dina uppgifter"))
    expect(data_link).to_have_attribute("href", re.compile(r"/widget/om-chatten\.html$"))
    assert_no_axe_violations(page, "open")

    send(page, "Behöver jag bygglov för ett garage?")
    answer = bot_messages(page).nth(1)
    expect(answer).to_contain_text("bygglov", ignore_case=True)
    link = answer.get_by_role("link").first
    href = link.get_attribute("href")
    assert href.startswith("https://"), href
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile("noopener"))
    expect(link).to_have_accessible_name(re.compile(r"\(öppnas i ny flik\)"))
    assert_no_axe_violations(page, "with messages")

    with page.expect_popup() as popup_info:
        link.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == href
    popup.close()


def test_handover_queue_staff_reply_closed_rating(fake_stack, page, screenshots):
    # The same path with the real bot and staff API runs in tests/handover and tests/console.
    stack = fake_stack
    page.goto(stack.base_url + "/")
    open_chat(page)
    page.get_by_role("button", name="Prata med en människa").click()

    # The assistant offers the handover; accept with the first quick reply.
    offer = page.locator("mjolby-chat .msg-bot .quick").last
    expect(offer).to_be_visible()
    offer.get_by_role("button").first.click()

    status = page.locator("mjolby-chat .statebar")
    expect(status).to_contain_text("Du står i kö till Medborgarservice")
    expect(status).to_contain_text(re.compile(r"Du är nummer \d+ i kön"))
    expect(status).to_contain_text(re.compile(r"Beräknad väntetid: (cirka \d+ minut|mindre än en minut)"))
    expect(page.get_by_role("button", name="Prata med en människa")).to_be_hidden()
    assert_no_axe_violations(page, "queued")
    page.screenshot(path=str(screenshots / ("widget-queued-%s.png" % stack.name)))

    cid = conversation_id(page)
    stack.claim(cid)
    expect(status).to_contain_text("Du chattar nu med en medarbetare på Medborgarservice")
    stack.reply(cid, "Hej! Jag heter Anna. Hur kan jag hjälpa dig?")
    staff_msg = page.locator("mjolby-chat .msg-agent").last
    expect(staff_msg).to_contain_text("Hur kan jag hjälpa dig?")
    expect(staff_msg.locator(".who")).to_contain_text("Medborgarservice")
    assert_no_axe_violations(page, "with a person")
    page.screenshot(path=str(screenshots / ("widget-agent-%s.png" % stack.name)))

    send(page, "Jag undrar över min faktura.")
    expect(page.locator("mjolby-chat .msg-user .pending")).to_have_count(0)

    stack.close(cid)
    rating = page.get_by_role("group", name="Betyg från 1 till 5")
    expect(rating).to_be_visible()
    expect(rating.get_by_role("button")).to_have_count(5)
    assert_no_axe_violations(page, "rating")
    page.screenshot(path=str(screenshots / ("widget-rating-%s.png" % stack.name)))
    rating.get_by_role("button", name="4", exact=True).click()
    expect(rating).to_have_count(0)
    expect(bot_messages(page).last).not_to_have_text(re.compile("Välj ett betyg"))
    if stack.name == "fake":
        assert stack.server.conversation(cid).ratings == [4]


def test_personnummer_is_masked_and_the_notice_renders(stack, page):
    page.goto(stack.base_url + "/")
    open_chat(page)
    send(page, "Mitt personnummer är 19121212-1212, när får jag svar på min ansökan?")
    notice = bot_messages(page).last
    expect(notice).to_contain_text("personnummer")
    own = page.locator("mjolby-chat .msg-user").last
    expect(own).not_to_contain_text("1212-1212")
    assert "1212-1212" not in page.evaluate("sessionStorage.getItem('mjolby-chat')")
    if stack.name == "fake":
        assert "1212-1212" not in " ".join(stack.server.user_texts(conversation_id(page)))


def test_offline_then_back_online_delivers_the_message(stack, page, context, screenshots):
    page.goto(stack.base_url + "/")
    open_chat(page)
    context.set_offline(True)
    send(page, "Behöver jag bygglov för ett garage?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Vi kan inte nå chatten just nu. Ring Medborgarservice på " + PHONE + ".")
    expect(alert.get_by_role("link", name=PHONE)).to_have_attribute("href", "tel:+46102345000")
    expect(page.locator("mjolby-chat .msg-user .pending")).to_have_text("Skickas …")
    assert_no_axe_violations(page, "error")
    page.set_viewport_size({"width": 320, "height": 640})
    page.screenshot(path=str(screenshots / ("widget-offline-320-%s.png" % stack.name)))
    context.set_offline(False)
    expect(page.locator("mjolby-chat .msg-user .pending")).to_have_count(0, timeout=15_000)
    expect(bot_messages(page).last).to_contain_text("bygglov", ignore_case=True)
    expect(page.locator("mjolby-chat .alert")).to_be_empty()


def test_reload_and_navigation_keep_the_history(stack, page):
    page.goto(stack.base_url + "/")
    open_chat(page)
    send(page, "Behöver jag bygglov för ett garage?")
    expect(bot_messages(page)).to_have_count(2)
    cid = conversation_id(page)
    texts = page.locator("mjolby-chat .msg").all_inner_texts()

    page.reload()
    expect(panel(page)).to_be_visible()
    assert page.locator("mjolby-chat .msg").all_inner_texts() == texts
    assert conversation_id(page) == cid
    # Reopening after a reload does not take focus from the page.
    assert focused_in_widget(page) == ""

    send(page, "Tack!")
    expect(page.locator("mjolby-chat .msg-user")).to_have_count(2)
    expect(page.locator("mjolby-chat .msg-user .pending")).to_have_count(0)
    expect(bot_messages(page)).to_have_count(3)


def test_keyboard_only(stack, page):
    page.goto(stack.base_url + "/")
    expect(launcher(page)).to_be_visible()
    for _ in range(15):
        page.keyboard.press("Tab")
        if focused_in_widget(page).startswith("launcher"):
            break
    assert focused_in_widget(page).startswith("launcher"), "Tab never reached the launcher"
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    expect(message_input(page)).to_be_focused()

    page.keyboard.type("Jag vill prata med en människa")
    page.keyboard.press("Enter")
    quick = page.locator("mjolby-chat .quick").last
    expect(quick).to_be_visible()
    expect(message_input(page)).to_be_focused()
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if focused_in_widget(page).startswith("quick-btn"):
            break
    assert focused_in_widget(page).startswith("quick-btn"), "Shift+Tab never reached the quick replies"
    # Move to the first quick reply of the group, then use it.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if not focused_in_widget(page).startswith("quick-btn"):
            page.keyboard.press("Tab")
            break
    else:
        raise AssertionError("Shift+Tab never left the quick replies")
    chosen = focused_in_widget(page).split("|", 1)[1]
    page.keyboard.press("Enter")
    expect(page.locator("mjolby-chat .msg-user").last).to_contain_text(chosen)
    expect(message_input(page)).to_be_focused()

    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    assert focused_in_widget(page).startswith("launcher")
