"""Labels in the inbox, in a real browser: the operator labels a chat from the thread header and filters by it."""

import pytest

from chat.models import ConversationLabel
from tests.browser import expect
from tests.factories import LabelFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_operator_labels_a_chat_sees_its_chip_and_filters_the_lists_by_it(
    desk, asgi_server, operator_page, visitors, screenshot_dir, language
):
    LabelFactory(name="Billing", colour="#d1242f", inbox=desk.inbox)
    LabelFactory(name="VIP", colour="#8250df")  # global
    LabelFactory(name="Wholesale only", inbox=desk.other_inbox)
    visitors(asgi_server, desk.inbox, name="Maria Lopez").say("I was charged twice")
    visitors(asgi_server, desk.inbox, name="Tom Berg").say("Where is my parcel?")
    page = operator_page(desk.ana.user, language=language)
    queue = page.locator("#list-queue")
    expect(queue.locator(".conv-item")).to_have_count(2)

    queue.get_by_text("Maria Lopez").click()
    expect(page.locator("#thread-title")).to_have_text("Maria Lopez")
    page.locator("#labels-edit").click()
    picker = page.locator("#label-picker")
    expect(picker).to_be_visible()
    # Her inbox's labels and the global ones, by name; never another inbox's.
    expect(picker.locator("li")).to_have_text(["Billing", "VIP"])
    # By keyboard: the first box has the focus; Tab goes to the next, Space ticks it, Esc closes the picker.
    expect(picker.locator("input").first).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.locator("#thread-labels .label-chip")).to_have_text(["VIP"])
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(page.locator("#thread-labels .label-chip")).to_have_text(["Billing", "VIP"])
    if language == "fa":
        # Mirrored: the picker opens from the button's right-hand edge.
        button = page.locator("#labels-edit").bounding_box()
        box = picker.bounding_box()
        assert abs((box["x"] + box["width"]) - (button["x"] + button["width"])) < 2
    page.screenshot(path=screenshot_dir / f"inbox-labels-picker-{language}.png")
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(page.locator("#labels-edit")).to_be_focused()

    maria = queue.locator(".conv-item", has_text="Maria Lopez")
    expect(maria.locator(".label-chip")).to_have_text(["Billing", "VIP"])
    expect(queue.locator(".conv-item", has_text="Tom Berg").locator(".label-chip")).to_have_count(0)
    labelled = ConversationLabel.objects.filter(conversation__contact__name="Maria Lopez")
    assert sorted(labelled.values_list("label__name", "added_by")) == [
        ("Billing", desk.ana.user_id),
        ("VIP", desk.ana.user_id),
    ]

    page.locator("#label-filter").select_option(label="VIP")
    expect(queue.locator(".conv-item")).to_have_count(1)
    expect(queue.locator(".conv-item")).to_contain_text("Maria Lopez")
    page.screenshot(path=screenshot_dir / f"inbox-labels-filtered-{language}.png")
    # The choice is kept for the tab, as the tickets' filter is.
    page.reload()
    page.wait_for_selector("body[data-connection=open]", state="attached")
    expect(page.locator("#label-filter")).to_have_value(str(labelled.get(label__name="VIP").label_id))
    expect(queue.locator(".conv-item")).to_have_count(1)
    page.locator("#label-filter").select_option(index=0)
    expect(queue.locator(".conv-item")).to_have_count(2)
