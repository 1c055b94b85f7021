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


def _header_in_view(page) -> None:
    """The header (title and close button) is at the top of the panel, not scrolled out of it, nor the page moved."""
    panel = page.panel.bounding_box()
    head = page.q(".sd-head").bounding_box()
    assert head["y"] == pytest.approx(panel["y"], abs=1), (head, panel)
    assert 0 <= head["y"] and head["y"] + head["height"] <= 800
    assert page.panel.evaluate("(el) => el.scrollTop") == 0
    assert page.evaluate("window.scrollY") == 0
    # What is drawn at the close button's centre is the close button itself, so the visitor can click it.
    button = page.q(".sd-min").bounding_box()
    hit = page.q(".sd-root").evaluate(
        "(root, [x, y]) => root.getRootNode().elementFromPoint(x, y).closest('button')?.className || ''",
        [button["x"] + button["width"] / 2, button["y"] + button["height"] / 2],
    )
    assert "sd-min" in hit


def test_answering_the_survey_after_a_long_chat_keeps_the_header_in_view(
    asgi_server, celery_worker_factory, host_site, widget_inbox, operator_socket, visitor
):
    SurveyTemplateFactory(inbox=widget_inbox, ask_ces=True, ces_scale="1-7", ask_nps=True)
    celery_worker_factory(SITE_URL=asgi_server.url)
    agent = operator_socket()
    # A long page behind the widget: it must not move either.
    url = host_site.widget_page(
        desk_url=asgi_server.url, site_key=widget_inbox.site_key, body="<div style='height:3000px'>Shop</div>"
    )
    page = visitor(url)
    page.open()
    page.fill_prechat("Sara", "sara@example.org")
    # A thread longer than the panel.
    for n in range(10):
        page.write(f"Detail {n + 1} about the tent pole that snapped on the second night.")
        page.q(".sd-msg-visitor .sd-state", has_text=SENT).nth(n).wait_for()
    conversation = agent.take_conversation()
    agent.send(
        {
            "type": "message.send",
            "conversation_id": conversation["id"],
            "client_id": "op-1",
            "body": "A spare is on its way.",
        }
    )
    page.bubbles("operator").first.wait_for()
    agent.send({"type": "conversation.resolve", "conversation_id": conversation["id"]})
    page.q(".sd-survey-form").wait_for(timeout=40_000)
    _header_in_view(page)

    page.q(".sd-q[data-key=csat] .sd-star").nth(4).click()
    page.q(".sd-q[data-key=ces] .sd-opt-btn").nth(6).click()
    page.q(".sd-q[data-key=nps] .sd-opt-btn").nth(10).click()
    page.q(".sd-survey-form button[type=submit]").click()
    thanks = page.q(".sd-thanks", has_text="Thank you for your feedback!")
    thanks.wait_for()
    _header_in_view(page)
    # Screen readers and some browsers bring the focused thank-you to the top of the view: only the thread may move.
    thanks.evaluate("(el) => el.scrollIntoView()")
    _header_in_view(page)
    assert thanks.is_visible()
    page.mouse.move(5, 5)
    page.shot("widget-survey-answered.png")

    # Closing and opening again finds the header where it was.
    page.q(".sd-min").click()
    page.panel.wait_for(state="hidden")
    page.open()
    _header_in_view(page)
    assert thanks.is_visible()


def test_a_pending_survey_is_shown_after_a_reload_while_nobody_is_online(
    asgi_server, celery_worker_factory, host_site, widget_inbox, operator_socket, visitor
):
    # The chat ended and the team went home: coming back, the visitor finds the survey, not the offline form.
    SurveyTemplateFactory(inbox=widget_inbox)
    celery_worker_factory(SITE_URL=asgi_server.url)
    agent = operator_socket()
    page = visitor(host_site.widget_page(desk_url=asgi_server.url, site_key=widget_inbox.site_key))
    _chat_until_resolved(page, agent)
    agent.send({"type": "presence.set", "status": "away"})
    page.q(".sd-subtitle", has_text="We're away right now").wait_for()
    page.page.reload()
    page.open()
    page.q(".sd-survey-form").wait_for()
    assert page.q(".sd-survey-form .sd-q legend").first.text_content() == "How satisfied are you with the help you got?"
    # Nobody would answer a new chat now: no composer beside the survey.
    assert page.q(".sd-compose-input").is_hidden()
    page.q(".sd-q[data-key=csat] .sd-star").nth(4).click()
    page.q(".sd-survey-form button[type=submit]").click()
    # Answered: the thanks stay, and the offline form is back for anything else.
    page.q(".sd-thanks", has_text="Thank you for your feedback!").wait_for()
    page.q(".sd-form:visible textarea[name=body]").wait_for()
    page.mouse.move(5, 5)
    page.shot("widget-survey-after-reload-offline.png")
