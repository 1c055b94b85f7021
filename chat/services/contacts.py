"""Contact writes made by operators."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from chat.models import Contact

NOTES_MAX_CHARS = 10_000


class ContactNotesTooLong(ValueError):
    pass


@transaction.atomic
def contact_update_notes(*, contact: Contact, notes: str) -> Contact:
    """Replaces the operators' notes kept on a contact (plain text, shown to operators only)."""
    notes = notes.replace("\r\n", "\n").strip()
    if len(notes) > NOTES_MAX_CHARS:
        raise ContactNotesTooLong(
            _("Notes can hold at most %(max)s characters (these have %(count)s).")
            % {"max": NOTES_MAX_CHARS, "count": len(notes)}
        )
    Contact.objects.filter(pk=contact.pk).update(notes=notes)
    contact.notes = notes
    return contact
