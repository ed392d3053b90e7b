"""The soak at a tiny size against a real ``gess serve``: its loss check, not its figures."""

from __future__ import annotations

from typing import Any

import pytest

from bench.soak import Ledger, soak
from tests.integration.server import GessServer

pytestmark = pytest.mark.integration


async def test_a_short_soak_loses_nothing_acknowledged(gess_server: Any) -> None:
    server: GessServer = await gess_server()
    result = await soak(
        server.ws_url,
        lambda: server.pid,
        seconds=8,
        clients=6,
        documents=2,
        restart=server.restart,
    )
    assert result["problems"] == []
    assert result["counts"]["edits"] > 0
    assert len(result["memory"]) >= 2


def test_the_ledger_notices_a_lost_a_resurrected_and_an_invented_token() -> None:
    ledger = Ledger(
        sent={"[1.1]", "[1.2]", "[2.1]"},
        inserted={"[1.1]", "[1.2]", "[2.1]"},
        delete_tried={"[1.2]"},
        deleted={"[1.2]"},
    )
    assert ledger.problems("[2.1][1.1]") == []
    problems = ledger.problems("[1.2][9.9]")
    assert any("missing" in p for p in problems)
    assert any("undone" in p for p in problems)
    assert any("nobody wrote" in p for p in problems)
