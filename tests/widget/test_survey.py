"""After the operator resolves the chat, the survey comes to the widget and is answered there."""

import time

import pytest

from surveys.models import SurveyResponse
from tests.factories import SurveyTemplateFactory
from tests.widget.support import SENT

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait_for(query, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := query()) is not None:
            return found
        time.sleep(0.2)
    raise AssertionError("not found in time")


def _chat_until_resolved(page, agent):
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    page.write("My tent pole snapped, can I get a spare?")
    page.q(".sd-state", has_text=SENT).wait_for()
    conversation = agent.take_conversation()
    agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation["id"],
            "client_id": "op-1",
            "body": "Sure, a spare pole is on its way, free of charge.",
        }
    )
    page.bubbles("operator").first.wait_for()
    agent.send({"type": "conversation.resolve", "conversation_id": conversation["id"]})
    page.q(".sd-ended").wait_for()
    # The invitation is made by the Celery worker after the commit, and pushed to the widget from there.
    page.q(".sd-survey-form").wait_for(timeout=40_000)
    return conversation


def test_the_survey_is_answered_in_the_widget(
    asgi_server, celery_worker_factory, host_site, widget_inbox, operator_socket, visitor
):
    SurveyTemplateFactory(inbox=widget_inbox, ask_ces=True, ces_scale="1-7", ask_nps=True)
    celery_worker_factory(SITE_URL=asgi_server.url)
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    conversation = _chat_until_resolved(page, agent)

    assert page.q(".sd-ended p").text_content() == "This conversation has ended."
    assert page.q(".sd-compose-input").is_hidden()
    legends = page.q(".sd-q legend").all_text_contents()
    assert legends == [
        "How satisfied are you with the help you got?",
        "How easy was it to get your issue handled?",
        "How likely are you to recommend us to a friend or colleague?",
    ]
    # Stars for CSAT 1–5, the CES scale as the inbox set it (1–7), and 0–10 for NPS.
    assert page.q(".sd-q[data-key=csat] .sd-star").count() == 5
    assert page.q(".sd-q[data-key=ces] .sd-opt-btn").all_text_contents() == [str(n) for n in range(1, 8)]
    assert page.q(".sd-q[data-key=nps] .sd-opt-btn").all_text_contents() == [str(n) for n in range(11)]

    # Sending without answering says what is missing, beside the question.
    page.q(".sd-survey-form button[type=submit]").click()
    assert page.q(".sd-q[data-key=csat] .sd-err").text_content() == "Please choose an answer."
    page.q(".sd-q[data-key=csat] .sd-star").nth(3).click()
    assert page.q(".sd-q[data-key=csat] .sd-star.sd-on").count() == 4
    page.q(".sd-q[data-key=ces] .sd-opt-btn").nth(5).click()
    page.q(".sd-q[data-key=nps] .sd-opt-btn").nth(9).click()
    page.q(".sd-survey-form textarea").fill("Quick and kind. <b>Thanks</b>")
    page.q(".sd-survey-form").scroll_into_view_if_needed()
    page.mouse.move(5, 5)
    page.shot("widget-survey.png")
    page.q(".sd-survey-form button[type=submit]").click()
    page.q(".sd-thanks", has_text="Thank you for your feedback!").wait_for()

    response = _wait_for(lambda: SurveyResponse.objects.filter(invitation__conversation_id=conversation["id"]).first())
    assert (response.csat, response.ces, response.nps, response.channel) == (4, 6, 9, "widget")
    assert response.comment == "Quick and kind. <b>Thanks</b>"

    # A new conversation can start from the ended one.
    page.q(".sd-ended button").click()
    assert page.q(".sd-compose-input").is_visible()
    assert page.bubbles().count() == 0
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.className") == "sd-compose-input"


def test_persian_survey_scales_run_right_to_left(
    asgi_server, celery_worker_factory, host_site, widget_inbox, operator_socket, visitor
):
    widget_inbox.language = "fa"
    widget_inbox.save()
    SurveyTemplateFactory(inbox=widget_inbox, ask_nps=True)
    celery_worker_factory(SITE_URL=asgi_server.url)
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key, lang="fa"))
    _chat_until_resolved(page, agent)

    assert page.q(".sd-q legend").first.text_content() == "چقدر از کمکی که دریافت کردید راضی هستید؟"
    stars = page.q(".sd-q[data-key=csat] .sd-star")
    nps = page.q(".sd-q[data-key=nps] .sd-opt-btn")
    # The first star and the 0 stand at the right; numbers are written in Persian digits.
    assert stars.first.bounding_box()["x"] > stars.last.bounding_box()["x"]
    assert nps.first.bounding_box()["x"] > nps.last.bounding_box()["x"]
    assert nps.first.text_content() == "۰" and nps.last.text_content() == "۱۰"
    stars.nth(4).click()
    nps.nth(10).click()
    page.q(".sd-survey-form").scroll_into_view_if_needed()
    page.mouse.move(5, 5)
    page.shot("widget-survey-persian.png")
    page.q(".sd-survey-form button[type=submit]").click()
    page.q(".sd-thanks", has_text="از بازخورد شما سپاسگزاریم").wait_for()
    response = _wait_for(lambda: SurveyResponse.objects.first())
    assert (response.csat, response.nps) == (5, 10)
