"""Transform: every dbt seed, model and test as Dagster assets, in two steps so that the
incident-level quality checks run between them: core (reference, staging, intermediate, facts),
then the metric marts and the public (suppressed) marts."""

import os
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.assets.resources import WarehouseRunLock
from orchestration.dbt import DBT_PROFILES_DIR, DBT_PROJECT_DIR, build_args, dbt_env, dbt_executable, ensure_manifest
from orchestration.runlock import record_warehouse_written
from orchestration.settings import load_settings

ensure_manifest()
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)
METRICS_SELECTION = "path:models/marts/metrics path:models/public_marts"


class LayerTranslator(DagsterDbtTranslator):
    """Group dbt assets by the layer folder they live in; seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # dagster-dbt hands dbt this process's environment: the settings go in for the build, and come out
    # after it, so a long-lived process (the CLI, a test) keeps none of them
    saved = dict(os.environ)
    os.environ.update(dbt_env())  # warehouse path, time zone and program from the settings module
    try:
        yield from dbt.cli(build_args(), context=context).stream()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    record_warehouse_written(load_settings())  # the gates after this step only read: publish checks it


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, exclude=METRICS_SELECTION,
            name="dbt_core", dagster_dbt_translator=LayerTranslator())
def dbt_core(context: dg.AssetExecutionContext, dbt: DbtCliResource, run_lock: WarehouseRunLock):
    """`dbt build` of seeds, staging, intermediate and the fact tables, with their tests."""
    yield from _build(context, dbt)


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, select=METRICS_SELECTION,
            name="dbt_metrics", dagster_dbt_translator=LayerTranslator())
def dbt_metrics(context: dg.AssetExecutionContext, dbt: DbtCliResource, run_lock: WarehouseRunLock):
    """`dbt build` of the metric marts, with their tests and contracts."""
    yield from _build(context, dbt)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROFILES_DIR), dbt_executable=dbt_executable())
