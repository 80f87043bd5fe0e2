"""Schedule, landing-folder sensor and the sensor that evaluates the mart freshness checks. Cron, interval
and freshness limits are the settings at load time; each tick reads the warehouse resource's settings."""

import json

import dagster as dg

from orchestration.assets.checks import MART_FRESHNESS_CHECKS
from orchestration.assets.resources import LOAD_TIME_SETTINGS as SETTINGS
from orchestration.assets.resources import Warehouse
from orchestration.jobs import main_job
from orchestration.land.loader import discover
from orchestration.runlock import recover_if_crashed


@dg.schedule(
    job=main_job,
    cron_schedule=SETTINGS.schedule_cron,
    execution_timezone=SETTINGS.city_tz,
    description=f"Runs the main job on cron '{SETTINGS.schedule_cron}' ({SETTINGS.city_tz}); "
    "ALT911_SCHEDULE_CRON changes it.",
)
def main_schedule(context: dg.ScheduleEvaluationContext, warehouse: Warehouse):
    # a run that died holding the warehouse would keep Dagster's run queue waiting: clean up first
    recover_if_crashed(warehouse.settings, context.instance, log=context.log.warning)
    return dg.RunRequest()


@dg.sensor(
    job=main_job,
    minimum_interval_seconds=SETTINGS.sensor_interval_seconds,
    description="Starts the main job when files appear or change in the landing folder. It never opens "
    "the warehouse (a reader would block the writer); its cursor remembers what it has seen.",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse):
    settings = warehouse.settings
    if not settings.landing_dir.is_dir():
        return dg.SkipReason(f"landing folder {settings.landing_dir} does not exist yet")
    recover_if_crashed(settings, context.instance, log=context.log.warning)
    # files still settling are not "seen" yet, so the sensor fires again once they have settled
    candidates, _, _ = discover(settings.landing_dir, settings.settle_seconds)
    seen = json.loads(context.cursor) if context.cursor else {}
    current = {c.rel: [c.path.stat().st_size, c.path.stat().st_mtime] for c in candidates}
    new = sorted(rel for rel, sig in current.items() if seen.get(rel) != sig)
    if not new:
        return dg.SkipReason("no new or changed files in the landing folder")
    context.update_cursor(json.dumps(current))
    return dg.RunRequest(
        run_key=f"landing-{len(current)}-{max(s[1] for s in current.values()):.0f}",
        tags={"alt911/new_files": str(len(new))},
    )


mart_freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=MART_FRESHNESS_CHECKS, name="mart_freshness_sensor"
)
