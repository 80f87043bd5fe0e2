"""The Great Expectations gates as blocking Dagster asset checks (suites: orchestration/checks/gates.py),
and the freshness checks of the metric marts (warnings, evaluated by mart_freshness_sensor)."""

import datetime as dt
from functools import lru_cache

import dagster as dg

from orchestration.assets.resources import LOAD_TIME_SETTINGS, Warehouse
from orchestration.assets.transform import dbt_metrics
from orchestration.checks.gates import gate_checks


@lru_cache(maxsize=4)
def gate_runner(settings):
    """One Great Expectations context per process and settings (the import alone takes seconds)."""
    from orchestration.checks.runner import GateRunner

    return GateRunner(settings)


def _make_check(name: str, asset: tuple[str, ...], description: str, gate: str):
    @dg.asset_check(
        asset=dg.AssetKey(list(asset)), name=name, description=description, blocking=True, metadata={"gate": gate}
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        settings = warehouse.settings
        result = gate_runner(settings).run(name)
        (context.log.info if result.success else context.log.error)(result.message)
        return dg.AssetCheckResult(
            passed=result.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description=result.message,
            metadata={
                "gate": gate,
                "rows_checked": result.rows,
                "seconds": round(result.seconds, 2),
                "failed_expectations": [f"{f['expectation']} ({f['column']})" for f in result.failures],
                "unexpected_counts": {
                    f"{f['expectation']} ({f['column']})": f["unexpected_count"] for f in result.failures
                },
                "data_docs": dg.MetadataValue.path(str(settings.data_docs_index)),
            },
        )

    return _check


# descriptions show the thresholds of the settings at load time; each run judges with its own settings
QUALITY_CHECKS = [_make_check(c.name, c.asset, c.description, c.gate) for c in gate_checks(LOAD_TIME_SETTINGS)]

# When the metric marts last changed, judged by mart_freshness_sensor, not by main_job: a run that just
# built the marts knows they are fresh, and evaluating the checks in it cost 2-4 s of every build
# (orchestration/jobs.py leaves them out).
MART_FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
    assets=[k for k in dbt_metrics.keys],
    lower_bound_delta=dt.timedelta(hours=LOAD_TIME_SETTINGS.marts_freshness_hours),
    timezone=LOAD_TIME_SETTINGS.city_tz,
)
