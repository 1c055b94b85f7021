"""Labels on conversations: an operator of the conversation's inbox sets them; the inbox's operators hear of it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.models import Conversation, ConversationLabel, Label, OperatorProfile
from chat.selectors import conversation_for_operator, labels_usable_in
from chat.services.broadcast import conversation_changed
from chat.services.errors import ChatError

# More than any inbox should define; a longer list is a malformed frame, not a choice.
LABELS_PER_CONVERSATION = 50


def _ids_list(label_ids: Iterable[int]) -> str:
    return ", ".join(str(pk) for pk in sorted(label_ids))


@transaction.atomic
def conversation_labels_set(
    *, profile: OperatorProfile, conversation_id: int, label_ids: Iterable[int]
) -> Conversation:
    """The conversation's labels become exactly `label_ids`: each the conversation's inbox's or global. Labels kept
    keep who added them and when; nothing is written, and nobody told, when nothing changes."""
    wanted = set(label_ids)
    if len(wanted) > LABELS_PER_CONVERSATION:
        raise ChatError("invalid_frame", _("A conversation has at most %(n)s labels.") % {"n": LABELS_PER_CONVERSATION})
    conversation = conversation_for_operator(profile=profile, conversation_id=conversation_id, lock=True)
    usable = set(labels_usable_in([conversation.inbox_id]).filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - usable:
        existing = set(Label.objects.filter(pk__in=wanted - usable).values_list("pk", flat=True))
        if existing:
            raise ChatError(
                "forbidden",
                _("These labels belong to another inbox and cannot be used here: %(ids)s.")
                % {"ids": _ids_list(existing)},
            )
        raise ChatError("not_found", _("There is no label %(ids)s.") % {"ids": _ids_list(wanted - usable)})
    current = set(ConversationLabel.objects.filter(conversation=conversation).values_list("label_id", flat=True))
    if current == wanted:
        return conversation
    ConversationLabel.objects.filter(conversation=conversation, label_id__in=current - wanted).delete()
    at = timezone.now()
    ConversationLabel.objects.bulk_create(
        [
            ConversationLabel(conversation=conversation, label_id=pk, added_by=profile.user, added_at=at)
            for pk in sorted(wanted - current)
        ]
    )
    # Labels are the operators' own: the visitor's widget is not told.
    conversation_changed(conversation, visitor=False)
    return conversation
