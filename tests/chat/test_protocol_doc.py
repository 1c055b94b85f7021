"""docs/protocol.md documents, with an example, every frame the desk sends or accepts and every error code."""

import re
from pathlib import Path

from django.conf import settings

from chat import consumers, realtime
from mail.services import outbound
from surveys import services as survey_services
from tickets.services import lifecycle, sla

ROOT = Path(settings.BASE_DIR)
DOC = (ROOT / "docs" / "protocol.md").read_text()
# Channel-layer messages between a consumer and the layer (and control frames for the operators' sockets), never
# written to a socket.
INTERNAL = {"realtime.frame", "conversation.refresh", "healthz.ping", "layer.probe", *realtime.OPERATOR_CONTROL_FRAMES}
CONSTANTS = {
    name: value
    for module in (realtime, sla, lifecycle, outbound)
    for name, value in vars(module).items()
    if name.isupper() and isinstance(value, str)
}


def _sources():
    for app in ("chat", "surveys", "tickets", "mail"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path.read_text()


def sent_frame_types() -> set[str]:
    types = set()
    for text in _sources():
        types |= set(re.findall(r'"type":\s*"([a-z_.]+)"', text))
        types |= {CONSTANTS[name] for name in re.findall(r'"type":\s*(?:realtime\.)?([A-Z_]+)\b', text)}
    return types - INTERNAL


def documented_examples() -> set[str]:
    return set(re.findall(r'\{"type":\s*"([a-z_.]+)"', DOC))


def test_every_frame_the_desk_sends_has_an_example():
    sent = sent_frame_types()
    assert {"survey.invite", "sla.alert", "ticket.updated", "sync.done", "operator.updated"} <= sent
    assert sent - documented_examples() == set()


def test_every_frame_the_desk_accepts_has_an_example():
    accepted = set(consumers.WidgetConsumer.handlers) | set(consumers.AgentConsumer.handlers)
    assert accepted - documented_examples() == set()


def test_every_error_code_is_in_the_table():
    codes = set()
    for text in _sources():
        codes |= set(re.findall(r'(?:ChatError|send_error)\(\s*"([a-z_]+)"', text))
    codes |= {
        cls.default_code
        for cls in vars(survey_services).values()
        if isinstance(cls, type) and issubclass(cls, survey_services.SurveyError)
    }
    assert {"server_error", "conflict", "closed", "rate_limited"} <= codes
    table = set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.MULTILINE))
    assert codes - table == set()
