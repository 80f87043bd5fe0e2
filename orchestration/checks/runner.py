"""Run a gate check: read what it inspects from the warehouse (read-only), validate it with Great
Expectations, store the result in the Data Docs site, and summarize what failed."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from dataclasses import dataclass, field

import duckdb

from orchestration.checks.gates import GateCheck, gate_checks
from orchestration.settings import Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no usage reporting from a city's servers


def _import_when_used(name: str) -> None:
    """Register module `name` to execute on its first attribute access (importlib's LazyLoader)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, module)  # `from scipy import stats` finds it as is


# Importing GX imports scipy.stats for one expectation (KL divergence) that no gate uses: about 1 s of
# the first gate step of every build. It loads when an expectation first calls it.
_import_when_used("scipy.stats")

import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402

# GX labels every DataFrame it validates with a fingerprint, pandas' hash of every row (0.8 s of the
# 1.3 s a check of 2 M unit assignments takes). Nothing reads the label; frames of at least this many
# bytes go without it, so none do (GX is pinned; tests/test_quality_gate.py fails if this stops working).
pandas_execution_engine.HASH_THRESHOLD = 0


@dataclass
class GateResult:
    check: GateCheck
    settings: Settings
    success: bool
    rows: int
    seconds: float
    failures: list[dict] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.success:
            return f"{self.check.name}: passed ({self.rows:,} rows)"
        parts = [
            f"{f['expectation']} on {f['column']}: {f['unexpected_count']:,} unexpected "
            f"({f['unexpected_percent']:.3g}%); first {len(f['examples'])}: {'; '.join(f['examples'])}"
            for f in self.failures
        ]
        governed = (
            f" Threshold: {self.check.setting} = {getattr(self.settings, self.check.setting)}, set in "
            f"{self.settings.setting_name(self.check.setting)}."
            if self.check.setting
            else ""
        )
        return f"{self.check.name} FAILED ({self.check.description}) " + " | ".join(parts) + "." + governed


def _describe(example) -> str:
    """One offending row as `column=value, ...` (or the bare value when GX gives no row identity)."""
    if isinstance(example, dict):
        return ", ".join(f"{k}={v}" for k, v in example.items())
    return str(example)


class GateRunner:
    """One Great Expectations context (a file context under settings.quality_dir, whose Data Docs site
    is the one the README points to) for all checks of a process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        settings.quality_dir.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(settings.quality_dir))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.save()
        self.datasource = self.context.data_sources.add_or_update_pandas("warehouse")

    def check(self, name: str) -> GateCheck:
        for c in gate_checks(self.settings):
            if c.name == name:
                return c
        raise KeyError(name)

    def run(self, name: str) -> GateResult:
        started = time.monotonic()
        check = self.check(name)
        con = duckdb.connect(str(self.settings.warehouse_path), read_only=True)
        try:
            frame = con.execute(check.sql).df()
        finally:
            con.close()

        expectations = [e.build() for e in check.expectations]
        suite = gx.ExpectationSuite(name=f"{check.gate}.{check.name}", expectations=expectations)
        suite = self.context.suites.add_or_update(suite)
        asset_name = f"{check.gate}.{check.name}"
        try:
            asset = self.datasource.get_asset(asset_name)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(asset_name)
        batch = (
            asset.batch_definitions[0] if asset.batch_definitions else asset.add_batch_definition_whole_dataframe("run")
        )
        validation = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=asset_name, data=batch, suite=suite)
        )
        # No Data Docs action: rendering costs more than validating. A failure is rendered at once
        # (that is when someone looks); passing results are rendered by render_latest_docs().
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
        if check.id_columns:  # failures name the offending rows (dates, ids), not only values
            result_format["unexpected_index_column_names"] = list(check.id_columns)
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(name=asset_name, validation_definitions=[validation], actions=[], result_format=result_format)
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
        if not outcome.success:
            self.context.build_data_docs(resource_identifiers=list(outcome.run_results))

        failures = []
        for run_result in outcome.run_results.values():
            for r in run_result.results:
                if r.success:
                    continue
                kw = r.expectation_config.kwargs
                column = f"{kw['column_A']} vs {kw['column_B']}" if "column_A" in kw else kw.get("column") or "(table)"
                failures.append(
                    dict(
                        expectation=r.expectation_config.type,
                        column=column,
                        unexpected_count=int(r.result.get("unexpected_count") or 0),
                        unexpected_percent=float(r.result.get("unexpected_percent") or 0.0),
                        examples=[
                            _describe(x)
                            for x in (
                                r.result.get("partial_unexpected_index_list")
                                or r.result.get("partial_unexpected_list")
                                or []
                            )[:20]
                        ],
                        observed=str(r.result.get("observed_value", "")),
                    )
                )
        return GateResult(check, self.settings, bool(outcome.success), len(frame), time.monotonic() - started, failures)

    def render_latest_docs(self, keep_days: int = 30) -> None:
        """Render the Data Docs pages of each suite's latest result, after dropping stored results
        (and their pages) older than keep_days, so an hourly schedule does not grow them forever."""
        cutoff = time.time() - keep_days * 86400
        gx_dir = self.settings.quality_dir / "gx"
        for folder in (
            gx_dir / "uncommitted" / "validations",
            gx_dir / "uncommitted" / "data_docs" / "local_site" / "validations",
        ):
            if folder.is_dir():
                for path in folder.rglob("*"):
                    if path.is_file() and path.stat().st_mtime < cutoff:
                        path.unlink()
        store = self.context.validation_results_store
        latest = {}
        for key in store.list_keys():
            suite = key.expectation_suite_identifier.name
            if suite not in latest or key.run_id.run_time > latest[suite].run_id.run_time:
                latest[suite] = key
        if latest:
            self.context.build_data_docs(resource_identifiers=list(latest.values()))
