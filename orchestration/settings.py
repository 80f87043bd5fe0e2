"""All paths and knobs in one place. Every value can be overridden by an environment variable
(ALT911_<NAME>, listed in the README), and by keyword for tests and command lines."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT / "seeds"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    serving_dir: Path
    quality_dir: Path
    city_tz: str
    program: str
    # automation
    schedule_cron: str = "0 * * * *"
    sensor_interval_seconds: int = 60
    retries: int = 2
    marts_freshness_hours: float = 26.0
    # quality gate thresholds
    max_quarantine_share: float = 0.001
    max_unknown_reason_share: float = 0.10
    min_link_rate: float = 0.85
    max_missing_arrival_share: float = 0.10
    max_missing_clear_share: float = 0.01
    daily_volume_band: float = 0.5
    # serving
    publish_postgres: bool = False

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def serving_path(self) -> Path:
        """The DuckDB file BI tools read; replaced atomically, only after every check passed."""
        return self.serving_dir / "alt911_marts.duckdb"

    @property
    def parquet_dir(self) -> Path:
        """Parquet exports of each mart; a symlink switched atomically to the newest export."""
        return self.serving_dir / "parquet"

    @property
    def data_docs_index(self) -> Path:
        return self.quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


_ENV = {  # field -> (environment variable, type)
    "landing_dir": ("ALT911_LANDING_DIR", Path),
    "warehouse_path": ("ALT911_WAREHOUSE", Path),
    "serving_dir": ("ALT911_SERVING_DIR", Path),
    "quality_dir": ("ALT911_QUALITY_DIR", Path),
    "city_tz": ("ALT911_CITY_TZ", str),
    "program": ("ALT911_PROGRAM", str),
    "schedule_cron": ("ALT911_SCHEDULE_CRON", str),
    "sensor_interval_seconds": ("ALT911_SENSOR_INTERVAL_SECONDS", int),
    "retries": ("ALT911_RETRIES", int),
    "marts_freshness_hours": ("ALT911_MARTS_FRESHNESS_HOURS", float),
    "max_quarantine_share": ("ALT911_MAX_QUARANTINE_SHARE", float),
    "max_unknown_reason_share": ("ALT911_MAX_UNKNOWN_REASON_SHARE", float),
    "min_link_rate": ("ALT911_MIN_LINK_RATE", float),
    "max_missing_arrival_share": ("ALT911_MAX_MISSING_ARRIVAL_SHARE", float),
    "max_missing_clear_share": ("ALT911_MAX_MISSING_CLEAR_SHARE", float),
    "daily_volume_band": ("ALT911_DAILY_VOLUME_BAND", float),
    "publish_postgres": ("ALT911_PUBLISH_POSTGRES", "bool"),
}


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


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with keyword overrides for tests and command lines."""
    data_dir = Path(overrides.pop("data_dir", None) or os.environ.get("ALT911_DATA_DIR", REPO_ROOT / "data"))
    defaults = dict(
        landing_dir=data_dir / "landing",
        warehouse_path=data_dir / "warehouse.duckdb",
        serving_dir=data_dir / "serving",
        quality_dir=data_dir / "quality",
        city_tz="America/New_York",
        program="heart",
    )
    values = {}
    for f in dataclasses.fields(Settings):
        if f.name == "data_dir":
            continue
        env_name, kind = _ENV[f.name]
        if overrides.get(f.name) is not None:
            values[f.name] = _parse(kind, overrides[f.name])
        elif env_name in os.environ:
            try:
                values[f.name] = _parse(kind, os.environ[env_name])
            except ValueError:
                name = kind if isinstance(kind, str) else kind.__name__
                raise ValueError(f"{env_name}={os.environ[env_name]!r} is not a valid {name}") from None
        elif f.name in defaults:
            values[f.name] = defaults[f.name]
    return Settings(data_dir=data_dir, **values)
