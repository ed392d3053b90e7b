"""The node's metrics: plain counters exported in the Prometheus text format."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counters_and_gauges_are_exported_with_their_types_and_values() -> None:
    metrics = Metrics()
    metrics.messages_received.inc()
    metrics.messages_received.inc(2)
    metrics.bytes_sent.inc(1500)
    metrics.connections.inc()
    metrics.connections.inc()
    metrics.connections.dec()
    metrics.updates_pending.inc(5)
    metrics.updates_pending.dec(5)
    metrics.redis_connected.set(1)
    metrics.disconnects.labels("too_slow").inc()
    metrics.disconnects.labels("too_slow").inc()
    metrics.disconnects.labels("malformed").inc()
    metrics.commit_seconds.observe(0.001)
    found = samples(metrics)
    assert found[("gess_messages_received_total", ())] == 3
    assert found[("gess_bytes_sent_total", ())] == 1500
    assert found[("gess_messages_sent_total", ())] == 0
    assert found[("gess_connections", ())] == 1
    assert found[("gess_updates_pending", ())] == 0
    assert found[("gess_redis_connected", ())] == 1
    assert found[("gess_disconnects_total", (("reason", "too_slow"),))] == 2
    assert found[("gess_disconnects_total", (("reason", "malformed"),))] == 1
    assert found[("gess_commit_seconds_count", ())] == 1
    text = metrics.render().decode()
    assert "# TYPE gess_messages_received_total counter" in text
    assert "# TYPE gess_connections gauge" in text
    assert "_created" not in text


def test_a_counter_does_not_go_down() -> None:
    with pytest.raises(ValueError, match="only goes up"):
        Metrics().messages_sent.inc(-1)


def test_two_nodes_in_one_process_count_apart() -> None:
    one, two = Metrics(), Metrics()
    one.document_loads.inc()
    assert samples(one)[("gess_document_loads_total", ())] == 1
    assert samples(two)[("gess_document_loads_total", ())] == 0
