"""A consumer closed while it joins its group must not wedge the group (Tansu 0.6).

Found by ``bench/load.py --fault broker-restart``: a view's feed closed its consumer while it
was still joining (after an error, or to rejoin a recreated topic); Tansu took the LeaveGroup
that followed the pending JoinGroup so that every later SyncGroup of that group failed, and
the view never got a partition again.  ``kafka_io.close_consumer`` leaves such a member to
expire instead.
"""

from __future__ import annotations

import time

import pytest
from kafka_broker import TansuBroker

from ingest import kafka_io

pytestmark = pytest.mark.kafka


def test_a_consumer_closed_mid_join_leaves_the_group_usable(kafka_broker: TansuBroker) -> None:
    bootstrap = kafka_broker.bootstrap
    kafka_io.ensure_topic(bootstrap, "t", 3)
    joining = kafka_io.make_consumer(bootstrap, "g")
    joining.subscribe(["t"])
    joining.poll(timeout_ms=1000)  # the join is under way; Tansu holds it ~3 s
    assert not joining.assignment()
    kafka_io.close_consumer(joining)

    consumer = kafka_io.make_consumer(bootstrap, "g")
    try:
        consumer.subscribe(["t"])
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=500)
        assert len(consumer.assignment()) == 3, "the group never assigned its partitions"
    finally:
        kafka_io.close_consumer(consumer)
