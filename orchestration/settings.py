"""All paths and knobs in one place. Every value can be overridden by an environment variable."""

from __future__ import annotations

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
    city_tz: str
    program: str

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"


def load_settings(**overrides) -> Settings:
    """Settings from the environment (ALT911_*), with keyword overrides for tests and CLIs."""
    data_dir = Path(overrides.get("data_dir") or os.environ.get("ALT911_DATA_DIR", REPO_ROOT / "data"))
    values = dict(
        data_dir=data_dir,
        landing_dir=Path(os.environ.get("ALT911_LANDING_DIR", data_dir / "landing")),
        warehouse_path=Path(os.environ.get("ALT911_WAREHOUSE", data_dir / "warehouse.duckdb")),
        city_tz=os.environ.get("ALT911_CITY_TZ", "America/New_York"),
        program=os.environ.get("ALT911_PROGRAM", "heart"),
    )
    values.update({k: v for k, v in overrides.items() if v is not None and k != "data_dir"})
    for key in ("landing_dir", "warehouse_path"):
        values[key] = Path(values[key])
    return Settings(**values)
