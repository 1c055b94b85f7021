"""Changes to who may use an open inbox socket reach the operator's sockets at once (on commit).

Her sockets joined the groups of her inboxes and were authenticated when they connected; without these frames a
removed operator kept receiving her former inbox's queue and messages, and a deactivated or logged-out one kept
replying, until she reloaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from chat import realtime
from chat.models import OperatorProfile


def _with_open_sockets(user_ids: Iterable[int]) -> list[int]:
    """Only operators with an inbox socket open somewhere have anything to hear (a socket counts itself before it
    reads its inboxes and session, so a change committed after that read finds it here)."""
    return list(
        OperatorProfile.objects.filter(user_id__in=set(user_ids), connection_count__gt=0).values_list(
            "user_id", flat=True
        )
    )


def operator_inboxes_changed(*, user_ids: Iterable[int]) -> None:
    """Her inboxes changed (membership, or an inbox deactivated): her sockets join and leave groups to match."""
    for user_id in _with_open_sockets(user_ids):
        realtime.send_to_operator(user_id, {"type": realtime.OPERATOR_INBOXES_CHANGED})


def session_digest(session_key: str) -> str:
    """How a control frame names a session: never the key itself, which is as good as the cookie."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def operator_session_changed(*, user_id: int, ended_session_key: str | None = None) -> None:
    """Her sessions may no longer be valid (deactivated, password changed): her sockets check theirs, and close
    with 4401 if it is gone. `ended_session_key` (a logout) closes that session's sockets without a check: the
    session is flushed only after the logout signal."""
    frame = {"type": realtime.OPERATOR_SESSION_CHANGED, "ended_session": None}
    if ended_session_key:
        frame["ended_session"] = session_digest(ended_session_key)
    if _with_open_sockets([user_id]):
        realtime.send_to_operator(user_id, frame)
