"""The public survey page in a real browser: answered with the keyboard only, errors announced beside the
field, and Persian laid out right to left, the scale included."""

import pytest

from surveys.links import survey_link_sign
from surveys.models import SurveyResponse
from surveys.services import survey_invitation_create
from tests.browser import expect
from tests.factories import SurveyTemplateFactory
from tests.requests_seen import RequestsSeen

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def survey_url(asgi_server, make_ended, inbox, contact):
    def make(*, language="en", **template):
        SurveyTemplateFactory(inbox=inbox, **template)
        contact.locale = language
        contact.save()
        invitation = survey_invitation_create(conversation_id=make_ended().pk)
        return invitation, f"{asgi_server.url}/surveys/{survey_link_sign(invitation.token)}/"

    return make


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_a_keyboard_user_answers_the_survey(browser_context, survey_url, screenshot_dir):
    invitation, url = survey_url(ask_ces=True, ces_scale="1-7")
    page = browser_context.new_page()
    page.goto(url)

    page.keyboard.press("Tab")
    assert focused_id(page) == "csat-1"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert focused_id(page) == "csat-4"
    assert page.is_checked("#csat-4")
    # The focused point is visibly outlined.
    outline = page.evaluate("getComputedStyle(document.querySelector('label[for=csat-4]')).outlineStyle")
    assert outline == "solid"
    page.screenshot(path=str(screenshot_dir / "survey-page-keyboard.png"), full_page=True)

    page.keyboard.press("Tab")
    assert focused_id(page) == "ces-1"
    page.keyboard.press("Space")
    assert page.is_checked("#ces-1")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.is_checked("#ces-7") and not page.is_checked("#ces-1")
    page.keyboard.press("Tab")
    assert focused_id(page) == "comment"
    page.keyboard.type("Fast and friendly")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.wait_for_selector("text=Thank you for your feedback!")
    response = SurveyResponse.objects.get(invitation=invitation)
    assert (response.csat, response.ces, response.comment, response.channel) == (4, 7, "Fast and friendly", "email")


def test_a_missing_answer_is_announced_and_shown_beside_the_question(browser_context, survey_url, screenshot_dir):
    _invitation, url = survey_url(ask_ces=True, ces_scale="0-10")
    page = browser_context.new_page()
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(url)
    page.check("#ces-9")
    page.click("text=Send my answers")

    page.wait_for_selector("#csat-error")
    # `autofocus` takes effect at the page's next rendering update, a moment after the element exists.
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.get_attribute("fieldset:has(#csat-1)", "aria-describedby") == "csat-scale-hint csat-error"
    assert page.inner_text("#csat-error").strip() == "Please choose a score."
    assert page.is_checked("#ces-9")  # what was chosen is kept
    # Phone width: the 0–10 scale wraps instead of overflowing the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "survey-page-error-phone.png"), full_page=True)


def test_the_persian_page_reads_right_to_left_scale_included(browser_context, survey_url, screenshot_dir):
    _invitation, url = survey_url(language="fa", ask_nps=True)
    seen = RequestsSeen()
    page = seen.watch(browser_context.new_page())
    page.goto(url)

    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "fa"
    one = page.locator("label[for=csat-1]").bounding_box()
    five = page.locator("label[for=csat-5]").bounding_box()
    assert one["x"] > five["x"]  # 1 on the right, 5 on the left
    legend = page.locator("fieldset:has(#csat-1) legend").bounding_box()
    fieldset = page.locator("fieldset:has(#csat-1)").bounding_box()
    assert legend["x"] + legend["width"] == pytest.approx(fieldset["x"] + fieldset["width"], abs=2)
    assert page.eval_on_selector("label[for=csat-1]", "label => label.firstChild.data") == "۱"
    page.screenshot(path=str(screenshot_dir / "survey-page-fa.png"), full_page=True)
    assert seen.outside(url.split("/surveys/")[0]) == []  # the page and its stylesheet come from the desk
