"""Records are read from result rows by field name: timestamps come out aware in UTC, the
activity payload is decoded, and a record cannot be changed once read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest
import sqlalchemy as sa

from storage.catalog import ActivityRecord
from storage.people import TokenRecord


def _row(sql: str) -> sa.Row[tuple[object, ...]]:
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.text(sql)).first()
    finally:
        engine.dispose()
    assert row is not None
    return row


def _activity(data_sql: str) -> ActivityRecord:
    return ActivityRecord.model_validate(
        _row(
            "SELECT 7 AS id, 'w' AS workspace_id, NULL AS actor_id, NULL AS actor_name, "
            "'document.created' AS verb, 'document' AS object_type, 'd' AS object_id, "
            f"{data_sql} AS data, '2026-03-01 09:30:00' AS created_at"
        )
    )


def test_a_row_becomes_a_record_with_aware_utc_timestamps():
    token = TokenRecord.model_validate(
        _row(
            "SELECT 't' AS id, 'u' AS user_id, 'session' AS kind, NULL AS name, "
            "'2026-03-01 09:30:00' AS created_at, NULL AS expires_at"
        )
    )
    assert token.created_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert token.created_at.tzinfo is UTC
    assert token.expires_at is None


def test_an_aware_timestamp_is_converted_to_utc():
    paris = timezone(timedelta(hours=1))
    token = TokenRecord(
        id="t",
        user_id="u",
        kind="personal",
        name="ci",
        created_at=datetime(2026, 3, 1, 10, 30, tzinfo=paris),
        expires_at=None,
    )
    assert token.created_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert token.created_at.tzinfo is UTC


def test_the_activity_payload_is_decoded_and_anything_but_an_object_reads_empty():
    assert _activity("""'{"title": "Plan"}'""").data == {"title": "Plan"}
    assert _activity("'[1, 2]'").data == {}
    assert _activity("'not json'").data == {}


def test_a_record_is_frozen():
    record = _activity("'{}'")
    with pytest.raises(pydantic.ValidationError):
        record.verb = "document.deleted"


def test_a_record_is_read_from_any_object_with_its_attributes():
    record = _activity("""'{"a": 1}'""")
    assert ActivityRecord.model_validate(record) == record
