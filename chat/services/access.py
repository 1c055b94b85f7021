"""Changes to who may use an open inbox socket reach the operator's sockets at once (on commit).

Her sockets joined the groups of her inboxes when they connected; without these frames a removed operator kept
receiving her former inbox's queue and messages until she reloaded.
"""

from __future__ import annotations

from collections.abc import Iterable

from chat import realtime


def operator_inboxes_changed(*, user_ids: Iterable[int]) -> None:
    """Her inboxes changed (membership, or an inbox deactivated): her sockets join and leave groups to match."""
    for user_id in set(user_ids):
        realtime.send_to_operator(user_id, {"type": realtime.OPERATOR_INBOXES_CHANGED})
