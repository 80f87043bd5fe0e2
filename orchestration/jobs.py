"""Jobs. The main job is what schedules and sensors run on real extracts; the demo job adds the demo
data generator in front of it (`make demo`)."""

import dagster as dg

from orchestration.settings import load_settings

DEMO = dg.AssetSelection.groups("demo")

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all() - DEMO,
    description="Land new extract drops, build the warehouse, run the quality gate, publish the serving copy.",
    # transient failures (a file still being written, a brief lock) are retried; check failures are not
    op_retry_policy=dg.RetryPolicy(max_retries=load_settings().retries, delay=30),
    run_tags={"alt911/writes": "warehouse"},
)

demo_job = dg.define_asset_job(
    "demo_job",
    selection=dg.AssetSelection.all(),
    description="Generate demo extract drops, then everything the main job does.",
    run_tags={"alt911/writes": "warehouse"},
)
