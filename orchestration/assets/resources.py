"""The run lock as a Dagster resource: every asset and check requires it, so every run holds the warehouse
for its whole length, whoever started it (CLI, schedule, sensor, UI). See orchestration/runlock.py."""

from contextlib import contextmanager

import dagster as dg

from orchestration.runlock import hold_run_lock
from orchestration.settings import load_settings


class WarehouseRunLock(dg.ConfigurableResource):
    """Held from the first step of a run to its end (runs execute in one process: see jobs.py). A second
    run waits (ALT911_RUN_LOCK_WAIT_SECONDS), then fails naming the run that holds the warehouse."""

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        log = context.log.info if context.log else print
        run_id = context.run.run_id if context.run else None
        with hold_run_lock(load_settings(), run_id=run_id, instance=context.instance, log=log):
            yield self
