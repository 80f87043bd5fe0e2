"""Dagster entry point (`dagster dev`, `dagster definitions validate`): a thin list of what each module defines."""

import dagster as dg

from orchestration.assets.land import land_extract_drops
from orchestration.jobs import main_job

defs = dg.Definitions(assets=[land_extract_drops], jobs=[main_job])
