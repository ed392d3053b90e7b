"""The sign-in throttle's rules, on a clock the tests move."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.login_throttle import LoginThrottle, Throttled, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **options: int | float) -> LoginThrottle:
    return LoginThrottle(clock=clock, **options)  # type: ignore[arg-type]


def fail(limiter: LoginThrottle, address: str = "a@example.org", client: str = "192.0.2.1"):
    limiter.begin(address, client)
    limiter.end(address, client, ok=False)


def test_waits_double_up_to_the_longest_and_refuse_even_the_right_password():
    clock = Clock()
    limiter = throttle(clock, free_failures=3, max_wait=10)
    for _ in range(3):
        fail(limiter)
    waits = []
    for _ in range(6):
        with pytest.raises(Throttled) as refused:
            limiter.begin("a@example.org", "192.0.2.1")
        waits.append(refused.value.retry_after)
        clock.now += refused.value.retry_after
        fail(limiter)
    assert waits == [1, 2, 4, 8, 10, 10]


def test_a_success_clears_and_a_quiet_hour_forgets():
    clock = Clock()
    limiter = throttle(clock, free_failures=2)
    fail(limiter)
    limiter.begin("a@example.org", "192.0.2.1")
    limiter.end("a@example.org", "192.0.2.1", ok=True)
    fail(limiter)  # one failure again, not two: no wait
    limiter.begin("a@example.org", "192.0.2.1")
    limiter.end("a@example.org", "192.0.2.1", ok=False)
    with pytest.raises(Throttled):
        limiter.begin("a@example.org", "192.0.2.1")
    clock.now += 3600
    fail(limiter)  # forgotten: the count starts again
    limiter.begin("a@example.org", "192.0.2.1")
    limiter.end("a@example.org", "192.0.2.1", ok=None)  # an error answers nothing, counts nothing


def test_a_network_budget_refills_over_the_hour():
    clock = Clock()
    limiter = throttle(clock, ip_failures=4)
    for number in range(4):
        fail(limiter, f"guess{number}@example.org")
    with pytest.raises(Throttled) as refused:
        limiter.begin("another@example.org", "192.0.2.1")
    assert refused.value.retry_after == 900  # an hour for four: one every 15 minutes
    limiter.begin("another@example.org", "192.0.2.2")  # other networks are not concerned
    clock.now += 900
    limiter.begin("another@example.org", "192.0.2.1")


def test_sign_ins_at_once_are_bounded_per_network():
    limiter = throttle(Clock(), in_flight=2)
    limiter.begin("a@example.org", "192.0.2.1")
    limiter.begin("b@example.org", "192.0.2.1")
    with pytest.raises(Throttled):
        limiter.begin("c@example.org", "192.0.2.1")
    limiter.begin("c@example.org", "192.0.2.9")
    limiter.end("a@example.org", "192.0.2.1", ok=None)
    limiter.begin("c@example.org", "192.0.2.1")


def test_ipv6_counts_per_64():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"


def test_memory_is_bounded():
    limiter = throttle(Clock(), max_entries=50, ip_failures=10**6)
    for number in range(500):
        fail(limiter, f"x{number}@example.org", f"10.0.{number // 250}.{number % 250}")
    assert len(limiter._pairs) <= 50 and len(limiter._clients) <= 50


attacks = st.lists(
    st.tuples(st.sampled_from(["a@example.org", "b@example.org"]), st.floats(0, 120)),
    max_size=60,
)


@given(attacks)
def test_no_one_is_locked_out_by_failures_elsewhere_or_for_long(attack):
    clock = Clock()
    limiter = throttle(clock, free_failures=3, max_wait=60, ip_failures=1000)
    for address, pause in attack:
        clock.now += pause
        try:
            limiter.begin(address, "203.0.113.66")
        except Throttled as refused:
            assert refused.retry_after <= 60
            continue
        limiter.end(address, "203.0.113.66", ok=False)
    # The person's own network: never concerned.
    limiter.begin("a@example.org", "192.0.2.1")
    limiter.end("a@example.org", "192.0.2.1", ok=True)
    # The attacker's network too, once the longest wait has passed in quiet.
    clock.now += 60
    limiter.begin("a@example.org", "203.0.113.66")
