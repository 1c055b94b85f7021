"""The suite's own listener on a channel-layer group loses no frame (tests/layers.py)."""

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.layers import GroupListener


def test_a_group_listener_receives_every_frame_sent_at_any_moment():
    # It used to cancel its pending receive every 50 ms: a frame Redis handed over at that instant was dropped,
    # and tests of the operators' frames failed now and then on PostgreSQL + Redis.
    listener = GroupListener("listener-probe")
    layer = get_channel_layer()
    try:
        for n in range(300):
            time.sleep(0.01 * (n % 6))
            async_to_sync(layer.group_send)("listener-probe", {"type": "realtime.frame", "frame": {"n": n}})
        assert [frame["n"] for frame in listener.frames()] == list(range(300))
    finally:
        listener.close()
