"""The admission counts of sockets: per address before the upgrade, per account after."""

from __future__ import annotations

from server.admission import Admission, Refusal
from server.auth import ConnectRequest
from server.config import Settings

REQUEST = ConnectRequest(document_id="doc", query={}, headers={}, cookies={})


def admission() -> Admission:
    return Admission(Settings(max_connections_per_ip=2, max_connections_per_account=1))


def test_an_address_is_refused_beyond_its_cap_until_a_socket_gives_its_place_back():
    rules = admission()
    assert rules.screen(REQUEST, "10.0.0.1") is None
    assert rules.screen(REQUEST, "10.0.0.1") is None
    refusal = rules.screen(REQUEST, "10.0.0.1")
    assert isinstance(refusal, Refusal) and refusal.status == 429
    assert rules.screen(REQUEST, "10.0.0.2") is None
    rules.release("10.0.0.1", None)
    assert rules.screen(REQUEST, "10.0.0.1") is None


def test_an_account_is_counted_once_joined_and_given_back_with_its_address():
    rules = admission()
    assert rules.screen(REQUEST, "10.0.0.1") is None
    assert rules.join_account("ada") is None
    assert rules.screen(REQUEST, "10.0.0.2") is None
    assert rules.join_account("ada") == "too many connections for this account: at most 1"
    assert rules.join_account(None) is None
    rules.release("10.0.0.1", "ada")
    assert (rules.addresses["10.0.0.1"], rules.accounts["ada"]) == (0, 0)
    assert rules.join_account("ada") is None
