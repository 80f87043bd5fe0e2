"""Dagster's SQLite event log, writing a batch of events in one transaction per database, over connections
it keeps.

When a run is created, Dagster records an "asset materialization planned" event for every asset of the
job (about 230 for `main_job`), as one batch. The stock SQLite storage writes a batch event by event,
opening the run's database and the index database for each: about 3 s of a run that lands nothing new.
This class writes the same rows, in the same order, with one connection to each database. Dagster
passes batches to it only when DAGSTER_EVENT_BATCH_SIZE is set; importing this module sets it, and every
process that opens the instance (run, daemon, UI) imports it, because dagster.yaml names this class.

The stock storage also builds a new SQLAlchemy engine, and so a new SQLite connection, for every event it
writes or query it makes, and throws it away after (5 ms an event, 10 ms an asset event; a run that builds
writes about 600). This class keeps the engines of the databases it used last (2 and 3 ms). Every
transaction is the same as the stock one's, under the same lock, committed before the call returns.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlalchemy_compat import db_result
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")
KEEP_ENGINES = 4  # the index and the run being written, and a few more: the UI reads many runs' databases


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Where Dagster's default storage keeps the event log: $DAGSTER_HOME/history/runs."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # by shard, most recently used last
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """SqliteEventLogStorage._connect, on a kept engine."""
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():  # a forked process: its parent's connections are not its own
            for engine in self._engines.values():
                engine.dispose(close=False)
            self._engines.clear()
            self._engines_pid = os.getpid()
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard), pool_size=1, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > KEEP_ENGINES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def _close_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close_engines()  # wipe deletes the run databases: no kept connection may outlive its file
        super().wipe()

    def dispose(self) -> None:
        self._close_engines()
        super().dispose()

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
