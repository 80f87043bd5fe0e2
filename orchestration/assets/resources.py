"""The resources every step takes: the warehouse (its settings, held for the whole run) and dbt."""

from contextlib import contextmanager
from functools import cached_property
from importlib import metadata

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version
from pydantic import Field, PrivateAttr

from orchestration.dbt import DBT_PROFILES_DIR, DBT_PROJECT, dbt_executable
from orchestration.runlock import hold_run_lock
from orchestration.settings import Settings, default_city_dir, default_data_dir, load_settings


class Warehouse(dg.ConfigurableResource):
    """The data folder and city folder a run works on, shown in the Dagster UI. Everything else (time zone,
    program, thresholds, limits) is the city's own setting in <city_dir>/city.yml, overridable by
    ALT911_* variables (orchestration/settings.py, README).

    Every asset and check requires it, so a run holds the warehouse's run lock from its first step to its
    end, whoever started it (CLI, schedule, sensor, UI); a second run waits (ALT911_RUN_LOCK_WAIT_SECONDS),
    then fails naming the run that holds it (orchestration/runlock.py). A sensor or schedule evaluation
    (no run) only reads the settings."""

    data_dir: str = Field(description="Data folder: landing/, warehouse.duckdb, serving/, quality/ (ALT911_DATA_DIR).")
    city_dir: str = Field(description="City folder: city.yml, rules/, mappings/ (ALT911_CITY_DIR).")
    _settings: Settings | None = PrivateAttr(default=None)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(data_dir=self.data_dir, city_dir=self.city_dir)
        return self._settings

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        if context.run is None:  # a sensor or schedule tick: it never writes the warehouse
            yield self
            return
        log = context.log.info if context.log else print
        with hold_run_lock(self.settings, run_id=context.run.run_id, instance=context.instance, log=log):
            yield self

    def run_config(self) -> dict:
        """This resource's config for a run (the CLI passes the settings it was given)."""
        return {"resources": {"warehouse": {"config": {"data_dir": self.data_dir, "city_dir": self.city_dir}}}}


# The code location's warehouse (ALT911_DATA_DIR, ALT911_CITY_DIR when it loads), and its settings as
# the definitions need them at load time (schedule, retries, check descriptions). Runs get their own.
WAREHOUSE = Warehouse(data_dir=str(default_data_dir()), city_dir=str(default_city_dir()))
LOAD_TIME_SETTINGS = WAREHOUSE.settings


class ProjectDbt(DbtCliResource):
    """dagster-dbt's dbt resource, less two costs of every run that builds:
    - before its first command in a run process it asks the executable for its version (`dbt --version`:
      a whole dbt start, 4-5 s). The executable is this environment's own dbt (dbt_executable()), so its
      version is the installed dbt-core's (pinned in requirements.lock);
    - before every command it imports dbt into the run's process and loads dbt's macros to open an
      adapter (about 2 s for the first step, 0.5 s for the next). dagster-dbt uses that adapter only to
      fetch row counts and column metadata, which this project does not ask for."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


RESOURCES = {
    "warehouse": WAREHOUSE,
    "dbt": ProjectDbt(project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROFILES_DIR), dbt_executable=dbt_executable()),
}
