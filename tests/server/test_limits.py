"""The pure limit bookkeeping: token buckets, a socket's message and byte rates, counters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.limits import BURST_SECONDS, Counter, MessageRate, RateSettings, TokenBucket


@given(
    rate=st.floats(0.5, 1000),
    capacity=st.floats(1, 5000),
    steps=st.lists(st.tuples(st.floats(0, 2), st.floats(0, 50)), max_size=200),
)
def test_a_bucket_never_gives_more_than_its_capacity_plus_its_rate(rate, capacity, steps):
    bucket = TokenBucket(rate, capacity, now=0.0)
    now = 0.0
    taken = 0.0
    for pause, amount in steps:
        now += pause
        if bucket.take(amount, now):
            taken += amount
        assert taken <= capacity + rate * now + 1e-6


def test_a_bucket_refills_at_its_rate_and_says_how_long_to_wait():
    bucket = TokenBucket(rate=10, capacity=20, now=0.0)
    assert bucket.take(20, 0.0)
    assert not bucket.take(1, 0.0)
    assert bucket.wait_time(1, 0.0) == pytest.approx(0.1)
    assert bucket.take(1, 0.1)
    assert bucket.wait_time(5, 0.1) == pytest.approx(0.5)
    # It never holds more than its capacity, however long it waits.
    assert not bucket.take(21, 1000.0)
    assert bucket.take(20, 1000.0)


def test_a_bucket_needs_a_positive_rate_and_capacity():
    with pytest.raises(ValueError):
        TokenBucket(0, 10, now=0.0)
    with pytest.raises(ValueError):
        TokenBucket(10, 0, now=0.0)


def test_a_socket_may_burst_then_keeps_to_its_message_rate():
    rate = MessageRate(RateSettings(100, 0, 1024), now=0.0)
    burst = int(100 * BURST_SECONDS)
    assert all(rate.admit(10, 0.0) is None for _ in range(burst))
    reason = rate.admit(10, 0.0)
    assert reason is not None and "100 messages per second" in reason
    assert rate.admit(10, 0.01) is None  # one more after a hundredth of a second


def test_a_big_message_on_a_quiet_socket_always_fits():
    rate = MessageRate(RateSettings(0, 1000, 16 * 1024 * 1024), now=0.0)
    assert rate.admit(16 * 1024 * 1024, 0.0) is None
    reason = rate.admit(1, 0.0)
    assert reason is not None and "1000 bytes per second" in reason


def test_zero_turns_the_rates_off():
    rate = MessageRate(RateSettings(0, 0, 10), now=0.0)
    assert all(rate.admit(10**9, 0.0) is None for _ in range(10_000))
    assert not RateSettings(0, 0, 10).limited
    assert RateSettings(1, 0, 10).limited and RateSettings(0, 1, 10).limited


def test_a_counter_caps_each_key_and_gives_back_places():
    counter = Counter(2)
    assert counter.acquire("a") and counter.acquire("a")
    assert not counter.acquire("a")
    assert counter.acquire("b")
    counter.release("a")
    assert counter["a"] == 1 and counter.acquire("a")
    counter.release("b")
    assert counter["b"] == 0


def test_a_counter_without_a_cap_counts_only():
    counter = Counter(0)
    assert all(counter.acquire("a") for _ in range(10_000))
    assert counter["a"] == 10_000
