"""The operator's profile form (the inbox's profile page)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chat.services.avatars import AvatarRefused, avatar_thumbnail


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=100,
        help_text=_("Visitors see this name in the chat."),
        error_messages={"required": _("Enter the name visitors should see.")},
    )
    avatar = forms.FileField(
        label=_("Photo"),
        required=False,
        help_text=_("A PNG, JPEG or WebP image; it is cut to a square. Without one, your initials are shown."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_avatar = forms.BooleanField(label=_("Remove my photo"), required=False)

    def clean_avatar(self):
        """The thumbnail's PNG bytes, or None when no file was sent."""
        upload = self.cleaned_data.get("avatar")
        if not upload:
            return None
        try:
            return avatar_thumbnail(upload)
        except AvatarRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
