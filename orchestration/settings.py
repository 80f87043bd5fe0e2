"""All paths and knobs in one place.

A city's own settings live in its city folder (`ALT911_CITY_DIR`, default `cities/demo`): `city.yml`
(program, time zone, risk screen, plausible window, limits, thresholds, what the city does not record,
secret names), `rules/` (the program's effective-dated rules, read by dbt as seeds) and `mappings/`
(how its exports map into the extract contract). Precedence, highest first: keyword overrides (tests,
command lines), environment variables ALT911_<NAME> (listed in the README), city.yml, built-in defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT / "seeds"  # the product's code sets, shared by every city
DEMO_CITY_DIR = REPO_ROOT / "cities" / "demo"
RISK_SCREEN_SOURCES = ("cad_flags", "priority", "call_type", "not_available")


class SettingsError(ValueError):
    """A setting (city.yml or environment) is missing, misspelt or of the wrong type."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    serving_dir: Path
    quality_dir: Path
    city_dir: Path = DEMO_CITY_DIR
    city_name: str = "Demo city"
    city_tz: str = "America/New_York"
    program: str = "heart"
    # risk screen of program eligibility (city.yml: risk_screen)
    risk_screen: str = "cad_flags"
    risk_screen_priority_at_least: int | None = None
    # landing row rules (city.yml: plausible_window, limits)
    plausible_earliest: dt.date = dt.date(1990, 1, 1)
    plausible_latest_after_extract_hours: float = 24.0
    max_dispatch_to_arrival_minutes: float = 240.0
    max_assignment_hours: float = 24.0
    max_incident_open_days: float = 30.0
    # what the city's systems do not record: extract or extract.column names (city.yml: not_recorded)
    not_recorded: tuple[str, ...] = ()
    # names of the environment variables holding secrets (city.yml: secrets)
    person_key_env: str = "ALT911_PERSON_KEY"
    postgres_password_env: str = "ALT911_PG_PASSWORD"
    # automation
    schedule_cron: str = "0 * * * *"
    sensor_interval_seconds: int = 60
    retries: int = 2
    run_lock_wait_seconds: float = 900.0  # how long a run waits for the one writing the warehouse
    settle_seconds: float = 60.0  # files changed more recently are left for the next run (still being written?)
    landing_memory_limit: str = "1GB"  # DuckDB's memory while landing; beyond it, it spills to disk
    marts_freshness_hours: float = 26.0
    # quality gate thresholds (city.yml: thresholds)
    max_quarantine_share: float = 0.001
    max_unknown_reason_share: float = 0.10
    min_link_rate: float = 0.85
    max_missing_arrival_share: float = 0.10
    max_missing_clear_share: float = 0.01
    daily_volume_band: float = 0.5
    # serving
    publish_postgres: bool = False
    site_pdf: bool = True  # print the public site's quarterly data cards to PDF (needs Chromium)

    @property
    def site_dir(self) -> Path:
        """The public site and data cards (a fixed symlink into serving/site_releases, switched whole
        after each publish)."""
        return self.serving_dir / "site"

    @property
    def rules_dir(self) -> Path:
        """The program's rules as CSV files (dbt seeds): eligible call types, beats, hours, police time."""
        return self.city_dir / "rules"

    @property
    def mappings_dir(self) -> Path:
        return self.city_dir / "mappings"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def serving_path(self) -> Path:
        """The DuckDB file BI tools read (a fixed symlink into serving/current, the one pointer a publish
        switches, only after every check passed)."""
        return self.serving_dir / "alt911_marts.duckdb"

    @property
    def parquet_dir(self) -> Path:
        """Parquet exports of each mart (a fixed symlink into serving/current, switched with the DuckDB file)."""
        return self.serving_dir / "parquet"

    @property
    def data_docs_index(self) -> Path:
        return self.quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

    def setting_name(self, field_name: str) -> str:
        """Where a person changes a setting, for error messages: the city.yml entry and the variable."""
        entry = _CITY_ENTRIES.get(field_name)
        env = _ENV.get(field_name, (None,))[0]
        where = [f"{self.city_dir / 'city.yml'}: {entry}" if entry else None, env and f"or {env}"]
        return " ".join(w for w in where if w)


_ENV = {  # field -> (environment variable, type)
    "landing_dir": ("ALT911_LANDING_DIR", Path),
    "warehouse_path": ("ALT911_WAREHOUSE", Path),
    "serving_dir": ("ALT911_SERVING_DIR", Path),
    "quality_dir": ("ALT911_QUALITY_DIR", Path),
    "city_tz": ("ALT911_CITY_TZ", str),
    "program": ("ALT911_PROGRAM", str),
    "risk_screen": ("ALT911_RISK_SCREEN", str),
    "schedule_cron": ("ALT911_SCHEDULE_CRON", str),
    "sensor_interval_seconds": ("ALT911_SENSOR_INTERVAL_SECONDS", int),
    "retries": ("ALT911_RETRIES", int),
    "run_lock_wait_seconds": ("ALT911_RUN_LOCK_WAIT_SECONDS", float),
    "settle_seconds": ("ALT911_SETTLE_SECONDS", float),
    "landing_memory_limit": ("ALT911_LANDING_MEMORY_LIMIT", str),
    "marts_freshness_hours": ("ALT911_MARTS_FRESHNESS_HOURS", float),
    "max_quarantine_share": ("ALT911_MAX_QUARANTINE_SHARE", float),
    "max_unknown_reason_share": ("ALT911_MAX_UNKNOWN_REASON_SHARE", float),
    "min_link_rate": ("ALT911_MIN_LINK_RATE", float),
    "max_missing_arrival_share": ("ALT911_MAX_MISSING_ARRIVAL_SHARE", float),
    "max_missing_clear_share": ("ALT911_MAX_MISSING_CLEAR_SHARE", float),
    "daily_volume_band": ("ALT911_DAILY_VOLUME_BAND", float),
    "publish_postgres": ("ALT911_PUBLISH_POSTGRES", "bool"),
    "site_pdf": ("ALT911_SITE_PDF", "bool"),
}

# city.yml entry (section.key) -> settings field. Anything else in city.yml is refused as a typo.
_CITY_FIELDS = {
    "name": "city_name",
    "program": "program",
    "time_zone": "city_tz",
    "risk_screen.source": "risk_screen",
    "risk_screen.priority_at_least": "risk_screen_priority_at_least",
    "plausible_window.earliest": "plausible_earliest",
    "plausible_window.latest_after_extract_hours": "plausible_latest_after_extract_hours",
    "limits.max_dispatch_to_arrival_minutes": "max_dispatch_to_arrival_minutes",
    "limits.max_assignment_hours": "max_assignment_hours",
    "limits.max_incident_open_days": "max_incident_open_days",
    "thresholds.max_quarantine_share": "max_quarantine_share",
    "thresholds.max_unknown_reason_share": "max_unknown_reason_share",
    "thresholds.min_link_rate": "min_link_rate",
    "thresholds.max_missing_arrival_share": "max_missing_arrival_share",
    "thresholds.max_missing_clear_share": "max_missing_clear_share",
    "thresholds.daily_volume_band": "daily_volume_band",
    "not_recorded": "not_recorded",
    "secrets.person_key": "person_key_env",
    "secrets.postgres_password": "postgres_password_env",
}
_CITY_ENTRIES = {field: entry for entry, field in _CITY_FIELDS.items()}


def _parse(kind, value):
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(value)
    return kind(value)


def _field_kind(name: str):
    """The type a settings field is parsed into."""
    if name in _ENV:
        return _ENV[name][1]
    return {
        "plausible_earliest": lambda v: v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)),
        "risk_screen_priority_at_least": lambda v: None if v is None else int(v),
        "not_recorded": lambda v: tuple(v or ()),
        "city_name": str,
        "person_key_env": str,
        "postgres_password_env": str,
    }.get(name, float)


@lru_cache(maxsize=16)
def read_city_file(city_dir: Path) -> dict:
    """city.yml as {settings field: value}; refuses unknown entries so a typo is never ignored."""
    path = Path(city_dir) / "city.yml"
    if not path.is_file():
        raise SettingsError(
            f"city folder {city_dir} has no city.yml (ALT911_CITY_DIR points at the city folder; "
            "`python -m orchestration city new` scaffolds one)"
        )
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    flat = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    unknown = sorted(set(flat) - set(_CITY_FIELDS))
    if unknown:
        raise SettingsError(
            f"{path}: unknown entr{'y' if len(unknown) == 1 else 'ies'} {unknown}; known: {sorted(_CITY_FIELDS)}"
        )
    values = {}
    for entry, value in flat.items():
        name = _CITY_FIELDS[entry]
        try:
            values[name] = _parse(_field_kind(name), value)
        except (TypeError, ValueError):
            raise SettingsError(f"{path}: {entry} = {value!r} is not valid") from None
    return values


def default_data_dir() -> Path:
    """The data folder: ALT911_DATA_DIR, or data/ in the repository."""
    return Path(os.environ.get("ALT911_DATA_DIR", REPO_ROOT / "data"))


def default_city_dir() -> Path:
    """The city folder: ALT911_CITY_DIR, or the demo city."""
    return Path(os.environ.get("ALT911_CITY_DIR", DEMO_CITY_DIR)).resolve()


def load_settings(**overrides) -> Settings:
    """Settings from the city folder and the environment, with keyword overrides for tests and command lines."""
    data_dir = Path(overrides.pop("data_dir", None) or default_data_dir())
    city_dir = Path(overrides.pop("city_dir", None) or default_city_dir()).resolve()
    values = dict(
        landing_dir=data_dir / "landing",
        warehouse_path=data_dir / "warehouse.duckdb",
        serving_dir=data_dir / "serving",
        quality_dir=data_dir / "quality",
    )
    values.update(read_city_file(city_dir))
    for f in dataclasses.fields(Settings):
        if f.name in ("data_dir", "city_dir"):
            continue
        kind = _field_kind(f.name)
        env_name = _ENV.get(f.name, (None,))[0]
        if overrides.get(f.name) is not None:
            values[f.name] = _parse(kind, overrides[f.name])
        elif env_name and env_name in os.environ:
            try:
                values[f.name] = _parse(kind, os.environ[env_name])
            except ValueError:
                name = kind if isinstance(kind, str) else kind.__name__
                raise SettingsError(f"{env_name}={os.environ[env_name]!r} is not a valid {name}") from None
    settings = Settings(data_dir=data_dir, city_dir=city_dir, **values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    try:
        zoneinfo.ZoneInfo(settings.city_tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"time_zone {settings.city_tz!r} is not an IANA time zone such as America/Denver "
            f"({settings.setting_name('city_tz')})"
        ) from None
    if settings.risk_screen not in RISK_SCREEN_SOURCES:
        raise SettingsError(
            f"risk_screen.source {settings.risk_screen!r} is not one of {RISK_SCREEN_SOURCES} "
            f"({settings.setting_name('risk_screen')})"
        )
    if settings.risk_screen == "priority" and settings.risk_screen_priority_at_least is None:
        raise SettingsError(
            "risk_screen.source is 'priority' but risk_screen.priority_at_least is not set "
            f"in {settings.city_dir / 'city.yml'}"
        )
    if not settings.rules_dir.is_dir():
        raise SettingsError(f"the city folder {settings.city_dir} has no rules/ folder with the program's rules")
