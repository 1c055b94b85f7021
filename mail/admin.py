"""Admin for the e-mail channel: an inbox's mail account (address, IMAP mailbox, a write-only password), and,
read-only, the mails in and out and the mails the desk refused (what a manager reads when a customer says they
wrote)."""

from __future__ import annotations

import ipaddress
import re

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from mail.imap import poll_account
from mail.models import MailAccount, MailAttachment, MailMessage, RefusedMail
from mail.secrets import encrypt_password

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _folder_key(name: str) -> str:
    name = (name or "").strip().strip("/")
    return "INBOX" if name.upper() == "INBOX" else name


class MailAccountForm(forms.ModelForm):
    """The password is write-only: typed here, stored encrypted (mail.secrets), never shown again."""

    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the stored one."),
    )
    clear_imap_password = forms.BooleanField(
        label=_("Clear the stored password"),
        required=False,
        help_text=_("Forget the stored password, e.g. when it is read from an environment variable instead."),
    )

    class Meta:
        model = MailAccount
        fields = [
            "inbox",
            "address",
            "display_name",
            "acknowledge",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password_env",
            "imap_folder",
            "imap_processed_folder",
        ]

    def clean(self):
        data = super().clean()
        host = (data.get("imap_host") or "").strip()
        password = data.get("imap_password") or ""
        clear = bool(data.get("clear_imap_password"))
        env = (data.get("imap_password_env") or "").strip()
        if "imap_host" in data:
            data["imap_host"] = host
        if "imap_password_env" in data:
            data["imap_password_env"] = env
        if password and clear:
            self.add_error("clear_imap_password", _("Either enter a new password or clear the stored one, not both."))
        if password and env:
            self.add_error(
                "imap_password", _("Either store a password here or name an environment variable, not both.")
            )
        if env and not ENV_NAME.match(env):
            self.add_error(
                "imap_password_env",
                _("The name of an environment variable: letters, digits and “_”, not starting with a digit."),
            )
        port = data.get("imap_port")
        if port is not None and not 1 <= port <= 65535:
            self.add_error("imap_port", _("A port is a number from 1 to 65535."))
        if not host:
            return data
        stored = bool(self.instance.imap_password_encrypted) and not clear
        if not (password or env or stored):
            self.add_error(
                "imap_password",
                _("IMAP polling needs a password: enter it here, or name an environment variable that holds it."),
            )
        if data.get("imap_security") == MailAccount.ImapSecurity.NONE and not is_loopback(host):
            self.add_error(
                "imap_security",
                _("Without encryption the password would cross the network in the clear: use SSL/TLS or STARTTLS."),
            )
        folder, processed = data.get("imap_folder"), data.get("imap_processed_folder")
        if folder and processed and _folder_key(folder) == _folder_key(processed):
            self.add_error(
                "imap_processed_folder", _("Processed mail must go to another folder than the one that is read.")
            )
        return data

    def save(self, commit=True):
        if self.cleaned_data.get("clear_imap_password"):
            self.instance.imap_password_encrypted = ""
        if self.cleaned_data.get("imap_password"):
            self.instance.imap_password_encrypted = encrypt_password(self.cleaned_data["imap_password"])
        return super().save(commit)


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    form = MailAccountForm
    list_display = ["address", "inbox", "acknowledge", "imap_host", "imap_last_polled_at", "last_error"]
    list_filter = ["acknowledge", "imap_security"]
    search_fields = ["address", "display_name", "imap_host", "imap_username", "inbox__name"]
    list_select_related = ["inbox"]
    autocomplete_fields = ["inbox"]
    readonly_fields = ["password_state", "imap_last_polled_at", "imap_last_error", "created_at"]
    actions = ["poll_now"]
    fieldsets = [
        (None, {"fields": ["inbox", "address", "display_name", "acknowledge"]}),
        (
            _("IMAP mailbox"),
            {
                "fields": [
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_username",
                    "password_state",
                    "imap_password",
                    "clear_imap_password",
                    "imap_password_env",
                    "imap_folder",
                    "imap_processed_folder",
                ],
                "description": _(
                    "Optional: an existing mailbox the desk reads every minute or so. Each mail in the folder "
                    "becomes a ticket or a reply in its ticket and is then moved to the folder for processed mail; "
                    "mail the desk refuses (too large, unreadable) goes to “Refused” beside it. Folder levels are "
                    "separated by “/”. Leave the host empty to receive mail only by the SMTP receiver."
                ),
            },
        ),
        (_("Last poll"), {"fields": ["imap_last_polled_at", "imap_last_error", "created_at"]}),
    ]

    @admin.display(description=_("password"))
    def password_state(self, obj):
        if obj.imap_password_env:
            return _("read from the environment variable %(name)s") % {"name": obj.imap_password_env}
        if obj.imap_password_encrypted:
            return _("stored, encrypted")
        return _("none")

    @admin.display(description=_("last IMAP error"), ordering="imap_last_error")
    def last_error(self, obj):
        error = obj.imap_last_error
        return f"{error[:97]}…" if len(error) > 100 else error or "—"

    @admin.action(description=_("Poll now"))
    def poll_now(self, request, queryset):
        for account in queryset.select_related("inbox").order_by("address"):
            if not account.uses_imap:
                self.message_user(
                    request, _("%(address)s has no IMAP mailbox.") % {"address": account.address}, messages.WARNING
                )
                continue
            if not account.inbox.is_active:
                self.message_user(
                    request,
                    _("%(address)s was not polled: its inbox is not active.") % {"address": account.address},
                    messages.WARNING,
                )
                continue
            counts = poll_account(account)
            if counts.get("error"):
                self.message_user(request, f"{account.address}: {counts['error']}", messages.ERROR)
            elif counts.get("skipped"):
                self.message_user(
                    request,
                    _("%(address)s is being polled right now; try again in a minute.") % {"address": account.address},
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    _(
                        "%(address)s: %(seen)d mails read: %(stored)d stored, %(duplicate)d already received, "
                        "%(bounce)d delivery reports, %(refused)d refused, %(too_large)d too large, %(deferred)d "
                        "deferred, %(failed)d failed; %(backlog)d wait for the next poll."
                    )
                    % {"address": account.address, **counts},
                    messages.SUCCESS,
                )


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RefusedMail)
class RefusedMailAdmin(_ReadOnly):
    """Written by the receivers, read by managers; deleting old entries is allowed."""

    list_display = ["created_at", "reason", "inbox", "sender", "recipient", "subject", "size"]
    list_filter = ["reason", "inbox"]
    search_fields = ["sender", "subject", "recipient", "message_id"]
    date_hierarchy = "created_at"
    list_select_related = ["inbox"]
    show_full_result_count = False


class MailAttachmentInline(admin.TabularInline):
    model = MailAttachment
    extra = 0
    fields = readonly_fields = ["filename", "content_type", "size"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MailMessage)
class MailMessageAdmin(_ReadOnly):
    """Every mail in and out, read-only: threading and the Message-ID dedupe depend on these rows."""

    list_display = [
        "id",
        "subject",
        "direction",
        "kind",
        "status",
        "from_address",
        "to_address",
        "inbox",
        "created_at",
        "sent_at",
    ]
    list_filter = ["direction", "kind", "status", "inbox"]
    search_fields = ["subject", "from_address", "to_address", "message_id"]
    date_hierarchy = "created_at"
    list_select_related = ["inbox"]
    show_full_result_count = False
    inlines = [MailAttachmentInline]
    fields = [
        "direction",
        "kind",
        "status",
        "inbox",
        "thread",
        "chat_message",
        "message_id",
        "in_reply_to",
        "references",
        "from_address",
        "to_address",
        "subject",
        "full_text",
        "original",
        "size",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "failure_reason",
        "created_at",
    ]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("original"))
    def original(self, obj):
        # The file's name only: stored mail is not served over HTTP (MEDIA_URL is not routed).
        return obj.raw.name or "—"
