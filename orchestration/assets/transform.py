"""Transform: every dbt seed, model and test as Dagster assets, in two steps so that the incident-level
quality checks run between them: core (reference, staging, intermediate, facts: everything but
tag:metrics), then the metric marts and the public (suppressed) marts (tag:metrics).

The staging models are incremental, and so are the incident-level models (the intermediate models that
roll staging up per incident, and fct_incidents): they rebuild the incidents whose inputs changed since
the last finished build (macros/changed_incidents.sql). Everything else is a table rebuilt every time, so
an incremental build equals a full rebuild as long as those do. Core builds are recorded with the rules they ran under
and the newest landing they saw (orchestration/build_state.py): a changed rule, seed, code, setting or
person key makes the next core build a full refresh."""

import logging
import subprocess
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field

from orchestration.assets.resources import Warehouse
from orchestration.build_state import (
    changed_since,
    needs_full_refresh,
    record_build_finished,
    record_build_start,
    rules_fingerprint,
)
from orchestration.dbt import (
    DBT_PROJECT,
    build_args,
    dbt_environment,
    keep_parse_state,
    prune_run_folders,
    run_folder,
)
from orchestration.runlock import record_warehouse_written

METRICS_SELECTION = "tag:metrics"  # the metric and public marts (dbt_project.yml tags each layer)
# Column-shape tests run inside `dbt build` and fail its step, naming themselves, but are not Dagster
# asset checks: each check costs three event-log writes per run (planned, evaluated, output), about 10 s
# of every hourly run for ~150 of them. The reconciliations (singular tests) and the small-cell tests on
# published counts stay checks of the model they test.
STRUCTURAL_TESTS = {
    "not_null",
    "unique",
    "relationships",
    "accepted_values",
    "unique_combination_of_columns",
}


class _ColumnShapeTestNotice(logging.Filter):
    """dagster-dbt warns, for each dbt test that is not an asset check, that it "was likely executed due to
    dbt indirect selection". Here those are the column-shape tests, left out of the checks on purpose
    (above), and the singular tests that read several models: the notice is wrong, and it is one
    event-log write per test, about 150 a run. dbt's own log keeps every test's result."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Logging an `AssetObservation` instead of an `AssetCheckResult`")


logging.getLogger("dagster.builtin").addFilter(_ColumnShapeTestNotice())


class LayerTranslator(DagsterDbtTranslator):
    """Group dbt assets by the layer folder they live in; seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        test = manifest["nodes"].get(unique_id, {})
        if (test.get("test_metadata") or {}).get("name") in STRUCTURAL_TESTS:
            return None
        return super().get_asset_check_spec(asset_spec, manifest, unique_id, project)


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models (staging, the incident-level models) from all of raw, not "
        "only what landed since their last build. Runs by itself when the code, rules, seeds, settings or person "
        "key changed; `python -m orchestration land --full-refresh` sets it.",
    )


def stop_dbt(process: subprocess.Popen) -> None:
    """A step that ends before dbt does (an error raised while its events stream in) must not leave dbt
    running and holding the warehouse: the step's retry, the next step and the next run need the lock.
    Seen as "Could not set lock ... held in" the run's own dbt process on every retry."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _dbt_step(name: str, incremental: bool, **selection: str):
    """One `dbt build` step over a selection of the project, holding the warehouse for the run. The step
    holding the incremental models decides between an incremental build and a full refresh."""

    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        name=name,
        dagster_dbt_translator=LayerTranslator(),
        **selection,
    )
    def _step(context: dg.AssetExecutionContext, config: DbtBuildConfig, dbt: DbtCliResource, warehouse: Warehouse):
        settings = warehouse.settings
        target = run_folder(name, context.run.run_id)
        full_refresh = config.full_refresh
        since = ""  # the incident-level models rebuild every incident unless told what changed
        if incremental:
            rules = rules_fingerprint(settings)
            reason = "asked for" if full_refresh else needs_full_refresh(settings, rules)
            full_refresh = reason is not None
            since = "" if full_refresh else (changed_since(settings) or "")
            context.log.info(
                f"full refresh of the incremental models: {reason}"
                if full_refresh
                else "incremental build: the staging models read only the rows landed since their last build, "
                + (
                    f"the incident-level models rebuild the incidents whose rows landed after {since}"
                    if since
                    else "the incident-level models rebuild every incident (no finished build recorded what it saw)"
                )
            )
            started_at = record_build_start(settings, rules, full_refresh)
        # warehouse path, time zone, program, rules from the city's settings; what changed since the last build
        # --no-write-json: dbt writes its 2 MB manifest.json twice a build (0.35-0.4 s each) and run_results.json;
        # Dagster reads neither, and the step's dbt.log (beside them) holds every node's result and timing.
        # --log-level-file info: at debug, dbt.log also held every SQL statement a step runs (500-900 of them,
        # 3.7-5.6 MB a step; the metrics step ran 0.7 s faster without). Each model's and test's SQL stays
        # in the step's run/ folder. `dbt` is alt911-dbt (orchestration/dbt_cli.py), which does not even build the
        # debug events that no logger then writes.
        args = [*build_args(full_refresh=full_refresh), "--no-write-json", "--log-level-file", "info"]
        with dbt_environment(settings, ALT911_CHANGED_SINCE=since):
            invocation = dbt.cli(args, context=context, target_path=target)
            try:
                for event in invocation.stream():
                    if not isinstance(event, dg.AssetObservation):  # a structural test's result: in dbt's log
                        yield event
            finally:
                stop_dbt(invocation.process)
        if incremental:
            record_build_finished(settings, started_at)
        record_warehouse_written(settings)  # the gates after this step only read: publish checks it
        keep_parse_state(target)
        prune_run_folders()

    return _step


# seeds, staging (incremental), intermediate and the fact tables, with their tests
dbt_core = _dbt_step("dbt_core", incremental=True, exclude=METRICS_SELECTION)
# the metric and public marts, with their tests and contracts (tables, rebuilt every time)
dbt_metrics = _dbt_step("dbt_metrics", incremental=False, select=METRICS_SELECTION)
