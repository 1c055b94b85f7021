"""The survey invitation (and maybe its answer) after an answered, ended conversation."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings

from supportdesk.history.rows import _dt
from supportdesk.history.world import InboxWorld, OperatorTrait
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import CES_SCALES, CSAT_SCALES, Scale
from surveys.selectors import survey_questions_snapshot
from tickets.services import LIVE_KINDS

if TYPE_CHECKING:
    from supportdesk.history.generator import ContactState, HistoryGenerator


def survey_after(
    gen: HistoryGenerator,
    w: InboxWorld,
    contact: ContactState,
    conv_id: int,
    ticket_id: int,
    answered_by: OperatorTrait,
    operator: OperatorTrait,
    team_id,
    ended: float,
) -> None:
    """The one invitation after an answered, ended conversation (cooldown, opt-out and NPS interval kept)."""
    template = w.template
    if template is None or contact.opted_out or ended - contact.last_invited < settings.SURVEY_COOLDOWN_SECONDS:
        return
    rng = gen.rng
    contact.last_invited = ended
    created = ended + rng.uniform(1, 5)
    includes_nps = template.ask_nps and created - contact.last_nps >= settings.NPS_INTERVAL_SECONDS
    if includes_nps:
        contact.last_nps = created
    language = "fa" if contact.locale == "fa" else (w.inbox.language or "en")
    snapshot_key = (language, includes_nps)
    if snapshot_key not in w.snapshots:
        w.snapshots[snapshot_key] = survey_questions_snapshot(
            template=template, language=language, include_nps=includes_nps
        )
    snapshot = w.snapshots[snapshot_key]
    live = w.inbox.kind in LIVE_KINDS
    in_widget = live and rng.random() < 0.85
    email_due = created + settings.SURVEY_EMAIL_DELAY_SECONDS if contact.has_email else None
    expires = created + settings.SURVEY_EXPIRY_SECONDS
    answered_at = channel = None
    emailed = None
    if in_widget and rng.random() < 0.35:
        answered_at, channel = created + rng.uniform(5, 120), "widget"
    elif email_due is not None:
        emailed = email_due
        if rng.random() < 0.18:
            answered_at, channel = email_due + gen.lognormal(3 * 3600, 1.2), "email"
            if answered_at > expires:
                answered_at = channel = None
        if contact.opts_out:
            contact.opted_out = True
    # Nothing after now has happened yet.
    if answered_at is not None and answered_at > gen.now:
        answered_at = channel = None
    if emailed is not None and emailed > gen.now:
        emailed = None
    if answered_at is not None:
        status = SurveyInvitation.Status.ANSWERED
    elif expires < gen.now:
        status = SurveyInvitation.Status.EXPIRED
    else:
        status = SurveyInvitation.Status.SENT
    invitation_id = gen.ids[SurveyInvitation].take()
    gen.invitation.add(
        (
            invitation_id,
            conv_id,
            contact.id,
            ticket_id,
            w.inbox.pk,
            w.inbox.kind,
            operator.user_id,
            team_id,
            secrets.token_urlsafe(24),
            snapshot["questions"],
            language,
            snapshot["comment_label"],
            snapshot["thank_you"],
            includes_nps,
            status,
            _dt(created),
            _dt(created),
            _dt(created) if in_widget else None,
            _dt(email_due),
            _dt(emailed),
            _dt(answered_at),
            _dt(expires),
        )
    )
    gen.counts["invitations"] += 1
    if answered_at is None:
        return
    # Scores lean on the operator's quality; a slow first answer costs a little.
    mood = rng.gauss(0.78 + 0.2 * operator.quality + 0.1 * answered_by.quality, 0.22)
    mood = min(max(mood, 0.0), 1.0)
    csat = ces = nps = None
    if template.ask_csat:
        csat = _score(CSAT_SCALES[template.csat_scale], mood)
    if template.ask_ces:
        ease = min(max(mood + rng.gauss(0, 0.15), 0.0), 1.0)
        ces = _score(CES_SCALES[template.ces_scale], ease)
    if includes_nps:
        nps = min(10, max(0, round(mood * 10 + rng.gauss(0.5, 1.2))))
    comment = rng.choice(("", "", "", "Quick and friendly, thanks!", "Took a while to get an answer."))
    gen.response.add(
        (
            gen.ids[SurveyResponse].take(),
            invitation_id,
            csat,
            template.csat_scale if csat is not None else "",
            ces,
            template.ces_scale if ces is not None else "",
            nps,
            comment,
            channel,
            _dt(answered_at),
        )
    )
    gen.counts["responses"] += 1


def _score(scale: Scale, share: float) -> int:
    """The point of the scale at `share` (0–1) of its range."""
    return scale.low + round(share * (scale.high - scale.low))
