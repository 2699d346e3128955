"""How the widget looks and behaves on small and large screens, zoomed,
in forced colors, with reduced motion and on a page with hostile CSS.
Writes the screenshots to DATA_DIR/screenshots."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from widget_steps import assert_no_axe_violations, bot_messages, launcher, message_input, open_chat, panel, send

pytestmark = pytest.mark.browser


def _conversation(page):
    """A conversation with an answer, links and quick replies on screen."""
    open_chat(page)
    send(page, "Behöver jag bygglov för ett garage?")
    expect(bot_messages(page)).to_have_count(2)
    send(page, "Jag vill prata med en människa")
    expect(page.locator("mjolby-chat .quick")).to_be_visible()
    message_input(page).fill("Jag har en fråga om")


def _no_horizontal_overflow(page):
    sizes = page.evaluate("""() => {
        const root = document.querySelector('mjolby-chat').shadowRoot;
        const p = root.querySelector('.panel');
        const r = p.getBoundingClientRect();
        return {doc: document.documentElement.scrollWidth, vw: innerWidth, vh: innerHeight,
                panelScroll: p.scrollWidth, panelClient: p.clientWidth,
                left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    }""")
    assert sizes["panelScroll"] <= sizes["panelClient"], sizes
    assert sizes["left"] >= 0 and sizes["right"] <= sizes["vw"], sizes
    assert sizes["top"] >= 0 and sizes["bottom"] <= sizes["vh"], sizes
    return sizes


def test_screenshot_1280(chat_server, page, screenshots):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(chat_server.url + "/")
    page.screenshot(path=str(screenshots / "widget-1280-closed.png"))
    _conversation(page)
    _no_horizontal_overflow(page)
    page.screenshot(path=str(screenshots / "widget-1280.png"))


def test_screenshot_320_reflows(chat_server, page, screenshots):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(chat_server.url + "/")
    expect(launcher(page)).to_be_in_viewport()
    page.screenshot(path=str(screenshots / "widget-320-closed.png"))
    _conversation(page)
    sizes = _no_horizontal_overflow(page)
    assert sizes["right"] - sizes["left"] == 320, "the panel fills a small screen"
    for name in ("Stäng chatten", "Prata med en människa", "Skicka"):
        expect(page.get_by_role("button", name=name).first).to_be_in_viewport()
    page.screenshot(path=str(screenshots / "widget-320.png"))
    assert_no_axe_violations(page, "open at 320 px")


def test_200_percent_zoom_reflows(chat_server, browser, screenshots):
    # 1280 x 720 at 200 % zoom is a 640 x 360 CSS pixel viewport.
    ctx = browser.new_context(viewport={"width": 640, "height": 360}, device_scale_factor=2, locale="sv-SE")
    try:
        page = ctx.new_page()
        page.goto(chat_server.url + "/")
        _conversation(page)
        _no_horizontal_overflow(page)
        expect(message_input(page)).to_be_in_viewport()
        expect(page.get_by_role("button", name="Skicka")).to_be_in_viewport()
        page.screenshot(path=str(screenshots / "widget-zoom-200.png"))
    finally:
        ctx.close()


def test_forced_colors_and_reduced_motion(chat_server, page, screenshots):
    page.emulate_media(forced_colors="active", reduced_motion="reduce")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(chat_server.url + "/")
    _conversation(page)
    styles = page.evaluate("""() => {
        const root = document.querySelector('mjolby-chat').shadowRoot;
        const css = (sel) => getComputedStyle(root.querySelector(sel));
        return {bubble: css('.msg-bot .bubble').borderTopStyle, bubbleWidth: css('.msg-bot .bubble').borderTopWidth,
                userBubble: css('.msg-user .bubble').borderTopStyle, quick: css('.quick-btn').borderTopStyle};
    }""")
    assert styles["bubble"] == "solid" and styles["bubbleWidth"] != "0px", styles
    assert styles["userBubble"] == "solid" and styles["quick"] == "solid", styles
    # Focus reached with the keyboard shows a solid outline in system colours.
    message_input(page).focus()
    page.keyboard.press("Shift+Tab")
    focus = page.evaluate("""() => {
        const el = document.querySelector('mjolby-chat').shadowRoot.activeElement;
        const s = getComputedStyle(el);
        return {cls: el.className, style: s.outlineStyle, width: s.outlineWidth};
    }""")
    assert focus["style"] == "solid" and focus["width"] == "3px", focus
    page.screenshot(path=str(screenshots / "widget-forced-colors.png"))


def test_typing_indicator_respects_reduced_motion(chat_server, page):
    page.emulate_media(reduced_motion="reduce")
    page.goto(chat_server.url + "/")
    open_chat(page)
    # Hold the answer back long enough to look at the indicator.
    page.route("**/api/v1/conversations/*/messages", lambda route: (page.wait_for_timeout(800), route.continue_()))
    send(page, "Behöver jag bygglov?")
    status = page.locator("mjolby-chat .typing")
    expect(status).to_have_text("Assistenten skriver …")
    expect(status).to_have_attribute("role", "status")
    animation = page.evaluate("getComputedStyle(document.querySelector('mjolby-chat').shadowRoot.querySelector('.dots span')).animationName")
    assert animation == "none"
    expect(status).to_have_text("")


def test_host_page_css_does_not_leak_in_or_out(chat_server, page, screenshots):
    page.goto(chat_server.url + "/host-styles.html")
    host_button_before = page.evaluate("getComputedStyle(document.querySelector('main button')).backgroundColor")
    expect(launcher(page)).to_be_visible()
    look = page.evaluate("""() => {
        const el = document.querySelector('mjolby-chat').shadowRoot.querySelector('.launcher');
        const s = getComputedStyle(el);
        return {color: s.color, font: s.fontFamily, spacing: s.letterSpacing, size: s.fontSize};
    }""")
    assert look["color"] == "rgb(255, 255, 255)", look
    assert "Comic" not in look["font"], look
    assert look["spacing"] == "normal", look
    assert look["size"] == "16px", look
    open_chat(page)
    expect(message_input(page)).to_be_visible()
    width = page.evaluate("document.querySelector('mjolby-chat').shadowRoot.querySelector('textarea').getBoundingClientRect().width")
    assert width > 150
    page.screenshot(path=str(screenshots / "widget-host-styles.png"))
    # Nothing of the widget's styling reaches the page.
    assert page.evaluate("getComputedStyle(document.querySelector('main button')).backgroundColor") == host_button_before
    assert page.evaluate("document.querySelectorAll('head style, head link[rel=stylesheet]').length") == 1


def test_one_global_and_requests_only_to_the_api(chat_server, page, context):
    hosts = []
    page.on("request", lambda req: hosts.append(req.url.split("/")[2]))
    # Record the globals before any script of the page runs.
    page.add_init_script("window.__globalsBefore = Object.getOwnPropertyNames(window)")
    page.goto(chat_server.url + "/")
    expect(launcher(page)).to_be_visible()
    added = set(page.evaluate("Object.getOwnPropertyNames(window).filter(n => !window.__globalsBefore.includes(n))"))
    added.discard("__globalsBefore")
    assert added <= {"MjolbyChat"}, added
    open_chat(page)
    send(page, "Behöver jag bygglov för ett garage?")
    expect(bot_messages(page)).to_have_count(2)
    assert set(hosts) == {chat_server.url.split("/")[2]}, set(hosts)
    assert panel(page).is_visible()


def test_axe_looks_inside_the_shadow_root(chat_server, page):
    """Guards the other axe checks: a flaw planted in the widget is found."""
    page.goto(chat_server.url + "/")
    open_chat(page)
    page.evaluate("document.querySelector('mjolby-chat').shadowRoot.querySelector('.panel').appendChild(document.createElement('button'))")
    try:
        assert_no_axe_violations(page, "planted flaw")
    except AssertionError as err:
        assert "button-name" in str(err), err
    else:
        raise AssertionError("axe did not see the unnamed button inside the shadow root")


def test_each_message_enters_the_log_once(chat_server, page):
    """The log is a live region: a message that is added twice is read twice."""
    page.goto(chat_server.url + "/")
    open_chat(page)
    page.evaluate("""() => {
        const log = document.querySelector('mjolby-chat').shadowRoot.querySelector('[role=log]');
        window.__added = [];
        new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach((n) => {
            if (n.nodeType === 1) window.__added.push(n.className);
        }))).observe(log, {childList: true, subtree: true});
    }""")
    chat_server.fail_next(429, retry_after=1)
    send(page, "Behöver jag bygglov?")
    expect(bot_messages(page)).to_have_count(2)
    expect(page.locator("mjolby-chat .msg-user .pending")).to_have_count(0)
    send(page, "Jag vill prata med en människa")
    page.get_by_role("button", name="Ja, koppla mig").click()
    expect(page.locator("mjolby-chat .statebar")).to_contain_text("Du står i kö")
    added = page.evaluate("window.__added")
    assert added == ["msg msg-user", "msg msg-bot", "msg msg-user", "msg msg-bot", "msg msg-user", "msg msg-bot"], added
