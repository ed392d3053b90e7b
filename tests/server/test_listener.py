"""The connection cap a node derives from its open-file limit."""

from __future__ import annotations

import resource

from server.listener import RESERVED_DESCRIPTORS, connection_cap


def test_a_configured_cap_is_kept():
    assert connection_cap(500, max_pending=1000) == 500


def test_the_automatic_cap_leaves_room_for_pending_connections_and_the_node():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = connection_cap(0, max_pending=100)
    if soft == resource.RLIM_INFINITY:
        assert cap == 0
    else:
        assert cap == max(64, soft - 100 - RESERVED_DESCRIPTORS)
