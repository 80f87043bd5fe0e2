"""Jobs: the main job materializes everything from landing to the last asset defined so far."""

import dagster as dg

main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all(),
    description="Land new extract drops and build everything downstream of them.",
)
