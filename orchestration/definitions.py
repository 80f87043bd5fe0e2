"""Dagster entry point (`dagster dev`, `dagster definitions validate`): a thin list of what each module defines."""

import dagster as dg

from orchestration.assets.checks import QUALITY_CHECKS
from orchestration.assets.land import land_extract_drops
from orchestration.assets.resources import WarehouseRunLock
from orchestration.assets.serving import published_marts
from orchestration.assets.transform import dbt_core, dbt_metrics, dbt_resource
from orchestration.automation import landing_folder_sensor, main_schedule, mart_freshness_checks, mart_freshness_sensor
from orchestration.jobs import main_job

defs = dg.Definitions(
    assets=[land_extract_drops, dbt_core, dbt_metrics, published_marts],
    asset_checks=[*QUALITY_CHECKS, *mart_freshness_checks],
    jobs=[main_job],
    schedules=[main_schedule],
    sensors=[landing_folder_sensor, mart_freshness_sensor],
    resources={"dbt": dbt_resource(), "run_lock": WarehouseRunLock()},
)
