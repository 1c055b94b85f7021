"""Model and auth signals the chat reacts to: each only tells a service what changed (chat.services.access)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from chat.models import Inbox, OperatorProfile
from chat.services.access import operator_inboxes_changed, operator_session_changed


@receiver(m2m_changed, sender=OperatorProfile.inboxes.through, dispatch_uid="chat.operator_inboxes_changed")
def _operator_inboxes_changed(sender, instance, action, reverse, pk_set, **kwargs):
    # The admin's forms and code change memberships from either side: profile.inboxes or inbox.operators.
    if action == "pre_clear" and reverse:
        instance._operators_before_clear = list(instance.operators.values_list("user_id", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        user_ids = [instance.user_id]
    elif action == "post_clear":
        user_ids = getattr(instance, "_operators_before_clear", [])
    else:
        user_ids = OperatorProfile.objects.filter(pk__in=pk_set).values_list("user_id", flat=True)
    operator_inboxes_changed(user_ids=list(user_ids))


@receiver(post_save, sender=Inbox, dispatch_uid="chat.inbox_saved")
def _inbox_saved(sender, instance, created, update_fields, **kwargs):
    # Deactivating (or activating again) an inbox changes what its operators' sockets hear.
    if not created and (update_fields is None or "is_active" in update_fields):
        operator_inboxes_changed(user_ids=list(instance.operators.values_list("user_id", flat=True)))


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="chat.user_saving")
def _user_saving(sender, instance, update_fields, **kwargs):
    # A new password (the session auth hash changes) or a deactivation ends the user's sessions.
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    before = get_user_model()._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    instance._sessions_end = before is not None and (
        before["password"] != instance.password or (before["is_active"] and not instance.is_active)
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="chat.user_saved")
def _user_saved(sender, instance, **kwargs):
    if getattr(instance, "_sessions_end", False):
        instance._sessions_end = False
        operator_session_changed(user_id=instance.pk)


@receiver(user_logged_out, dispatch_uid="chat.user_logged_out")
def _user_logged_out(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if user is not None and session is not None and session.session_key:
        operator_session_changed(user_id=user.pk, ended_session_key=session.session_key)
