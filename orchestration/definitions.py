"""Dagster entry point (`dagster dev`, `dagster definitions validate`; code location `alt911`): a thin
list of what each module defines, in the order data flows: land, transform, check, serve, automate."""

import dagster as dg

from orchestration.assets.checks import MART_FRESHNESS_CHECKS, QUALITY_CHECKS
from orchestration.assets.land import land_extract_drops
from orchestration.assets.resources import RESOURCES
from orchestration.assets.serving import public_site, published_marts
from orchestration.assets.transform import dbt_core, dbt_metrics
from orchestration.automation import landing_folder_sensor, main_schedule, mart_freshness_sensor
from orchestration.dbt import DBT_PROJECT
from orchestration.jobs import main_job

DBT_PROJECT.prepare_if_dev()  # under `dagster dev`, re-parse the dbt project on every reload

defs = dg.Definitions(
    assets=[land_extract_drops, dbt_core, dbt_metrics, published_marts, public_site],
    asset_checks=[*QUALITY_CHECKS, *MART_FRESHNESS_CHECKS],
    jobs=[main_job],
    schedules=[main_schedule],
    sensors=[landing_folder_sensor, mart_freshness_sensor],
    resources=RESOURCES,
)
