"""Demo data as an asset, so `make demo` is one Dagster run from generation to publishing.
Production runs never select it (the main job excludes the demo group)."""

import datetime as dt

import dagster as dg

from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.settings import load_settings

DEMO_KEY = dg.AssetKey(["demo", "demo_extract_drops"])


class DemoDataConfig(dg.Config):
    years: float = 1.0
    seed: int = 42
    start: str = "2023-07-01"
    format: str = "csv"
    inject: bool = False


@dg.asset(key=DEMO_KEY, group_name="demo", kinds={"python"},
          description="Extract drops for a simulated city, written into the landing folder (replacing it), "
                      "with the planted truth beside it. Demo runs only.")
def demo_extract_drops(context: dg.AssetExecutionContext, config: DemoDataConfig) -> dg.MaterializeResult:
    settings = load_settings()
    cfg = DemoConfig(seed=config.seed, days=int(round(config.years * 365)), start=dt.date.fromisoformat(config.start),
                     city_tz=settings.city_tz)
    summary = generate(cfg, settings.landing_dir, settings.data_dir / "demo_truth.json", fmt=config.format,
                       inject=config.inject, replace=True, progress=context.log.info)
    return dg.MaterializeResult(metadata={
        "incidents": summary["incidents"], "files": summary["files"], "rows": summary["rows"],
        "planted_truth": dg.MetadataValue.path(summary["truth"]), "bad_input_planted": config.inject})
