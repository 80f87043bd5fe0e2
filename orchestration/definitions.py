"""Dagster entry point (`dagster dev`, `dagster definitions validate`): a thin list of what each module defines."""

import dagster as dg

from orchestration.assets.land import land_extract_drops
from orchestration.assets.transform import dbt_resource, dbt_warehouse
from orchestration.jobs import main_job

defs = dg.Definitions(
    assets=[land_extract_drops, dbt_warehouse],
    jobs=[main_job],
    resources={"dbt": dbt_resource()},
)
