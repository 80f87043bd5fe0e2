"""Transform: every dbt seed, model and test as Dagster assets (staging -> intermediate -> marts)."""

import os
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.dbt import DBT_PROFILES_DIR, DBT_PROJECT_DIR, build_args, dbt_env, dbt_executable, ensure_manifest

ensure_manifest()
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROFILES_DIR)


class LayerTranslator(DagsterDbtTranslator):
    """Group dbt assets by the layer folder they live in; seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=LayerTranslator(),
    pool="warehouse_writer",  # one writer at a time for the DuckDB file
)
def dbt_warehouse(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` of the selected models with their tests (unit tests excluded: CI runs them)."""
    os.environ.update(dbt_env())  # warehouse path, time zone and program from the settings module
    yield from dbt.cli(build_args(), context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROFILES_DIR), dbt_executable=dbt_executable())

