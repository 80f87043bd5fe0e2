"""Dagster's SQLite event log, writing a batch of events in one transaction per database.

When a run is created, Dagster records an "asset materialization planned" event for every asset of the
job (about 230 for `main_job`), as one batch. The stock SQLite storage writes a batch event by event,
opening the run's database and the index database for each: about 3 s of a run that lands nothing new.
This class writes the same rows, in the same order, with one connection to each database. Dagster
passes batches to it only when DAGSTER_EVENT_BATCH_SIZE is set; importing this module sets it, and every
process that opens the instance (run, daemon, UI) imports it, because dagster.yaml names this class.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from dagster import Field, StringSource
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result

os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Where Dagster's default storage keeps the event log: $DAGSTER_HOME/history/runs."""

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> BatchingSqliteEventLogStorage:
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        return cls(base_dir, inst_data=inst_data)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """What store_event does for each event (SqliteEventLogStorage.store_event), one transaction per
        database. A batch of one run only; anything else goes event by event."""
        if len({event.run_id for event in events}) != 1:
            super().store_event_batch(events)
            return
        inserts = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            for insert in inserts:
                conn.execute(insert)
        checks = []
        with self.index_transaction() as conn:
            for event, insert in zip(events, inserts, strict=True):
                kind = event.dagster_event_type if event.is_dagster_event else None
                if kind in ASSET_EVENTS:
                    with db_result(conn, insert) as result:
                        event_id = result.inserted_primary_key[0]
                    self._store_asset_event_tags(conn, [event], [event_id])
                    self._store_asset_event(conn, event, event_id)
                elif kind in ASSET_CHECK_EVENTS:
                    with db_result(conn, insert) as result:
                        checks.append((event, result.inserted_primary_key[0]))
                elif kind in EVENT_TYPE_TO_PIPELINE_RUN_STATUS:
                    conn.execute(insert)
        for event, event_id in checks:  # it opens its own connection
            self.store_asset_check_event(event, event_id)
