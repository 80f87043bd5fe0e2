"""Transform: every dbt seed, model and test as Dagster assets, in two steps so that the incident-level
quality checks run between them: core (reference, staging, intermediate, facts: everything but
tag:metrics), then the metric marts and the public (suppressed) marts (tag:metrics)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.assets.resources import Warehouse
from orchestration.dbt import DBT_PROJECT, build_args, dbt_environment, prune_run_folders, run_folder
from orchestration.runlock import record_warehouse_written

METRICS_SELECTION = "tag:metrics"  # the metric and public marts (dbt_project.yml tags each layer)


class LayerTranslator(DagsterDbtTranslator):
    """Group dbt assets by the layer folder they live in; seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


def _dbt_step(name: str, **selection: str):
    """One `dbt build` step over a selection of the project, holding the warehouse for the run."""

    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        name=name,
        dagster_dbt_translator=LayerTranslator(),
        **selection,
    )
    def _step(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
        settings = warehouse.settings
        target = run_folder(name, context.run.run_id)
        with dbt_environment(settings):  # warehouse path, time zone, program, rules from the city's settings
            yield from dbt.cli(build_args(), context=context, target_path=target).stream()
        record_warehouse_written(settings)  # the gates after this step only read: publish checks it
        prune_run_folders()

    return _step


# seeds, staging, intermediate and the fact tables, with their tests
dbt_core = _dbt_step("dbt_core", exclude=METRICS_SELECTION)
# the metric and public marts, with their tests and contracts
dbt_metrics = _dbt_step("dbt_metrics", select=METRICS_SELECTION)
