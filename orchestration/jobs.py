"""The main job: what schedules, sensors, `python -m orchestration land` and `make demo` run. The demo
data generator is not an asset: `make demo` writes demo drops first, then runs this same job."""

import dagster as dg

from orchestration.assets.checks import MART_FRESHNESS_CHECKS
from orchestration.assets.resources import LOAD_TIME_SETTINGS

main_job = dg.define_asset_job(
    "main_job",
    # every asset and check but the freshness checks, which mart_freshness_sensor evaluates
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*MART_FRESHNESS_CHECKS),
    description="Land new extract drops, build the warehouse, run the quality gate, publish the serving copy "
    "and the public site.",
    # transient failures (a file still being written, a brief lock) are retried; check failures are not
    op_retry_policy=dg.RetryPolicy(max_retries=LOAD_TIME_SETTINGS.retries, delay=30),
    run_tags={"alt911/writes": "warehouse"},
    # every step in the run's own process: the run lock (a resource) is held once, for the whole run,
    # and dies with it; steps that share one DuckDB file gain nothing from running in parallel
    executor_def=dg.in_process_executor,
)
