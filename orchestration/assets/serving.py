"""Publish: the serving copy BI tools read, replaced only after every blocking check upstream passed."""

import dagster as dg

from orchestration.assets.checks import gate_runner
from orchestration.assets.resources import Warehouse
from orchestration.assets.transform import dbt_core, dbt_metrics
from orchestration.build_state import record_postgres_published
from orchestration.runlock import assert_audited
from orchestration.serving.publish import publish

SERVED = [k for k in [*dbt_core.keys, *dbt_metrics.keys] if k.path[0] in ("marts", "public_marts")]


@dg.asset(
    key=["serving", "published_marts"],
    group_name="serving",
    deps=SERVED,
    kinds={"duckdb", "parquet"},
    description="The serving DuckDB file (storage v1.0.0, readable by DuckDB 1.x BI drivers) and Parquet "
    "exports of every mart, swapped in atomically after the quality gate; with "
    "ALT911_PUBLISH_POSTGRES=true, also the marts and public_marts schemas of a PostgreSQL server.",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    settings = warehouse.settings
    assert_audited(settings)  # the warehouse is exactly what this run's gates passed
    manifest = publish(settings, context.run.run_id)
    gate_runner(settings).render_latest_docs()  # the quality report of this, passing, run
    if settings.publish_postgres:
        from orchestration.serving.postgres import PostgresSettings, publish_to_postgres

        pg = PostgresSettings.from_env()
        counts = publish_to_postgres(settings, pg)
        record_postgres_published(settings, manifest["built_from"])  # else the next run publishes again
        context.log.info(
            f"published {len(counts)} tables to PostgreSQL {pg.host}:{pg.port}/{pg.database} "
            "(schemas marts, public_marts)"
        )
    context.log.info(
        f"published {len(manifest['tables'])} tables to {settings.serving_path} and {settings.parquet_dir}"
    )
    return dg.MaterializeResult(
        metadata={
            "serving_file": dg.MetadataValue.path(str(settings.serving_path)),
            "parquet_dir": dg.MetadataValue.path(str(settings.parquet_dir)),
            "tables": len(manifest["tables"]),
            "rows": sum(manifest["tables"].values()),
            "storage_version": manifest["storage_version"],
            "data_docs": dg.MetadataValue.path(str(settings.data_docs_index)),
        }
    )


@dg.asset(
    key=["serving", "public_site"],
    group_name="serving",
    deps=[published_marts],
    kinds={"html", "pdf"},
    description="The public site (dashboard, Major Questions) and the quarterly data cards in English and "
    "Spanish (HTML and PDF), generated from the published public marts only and switched in whole beside the "
    "serving copy (serving/site). Rebuild it from the current serving copy with `python -m orchestration site`.",
)
def public_site(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    from orchestration.site.publish import publish_site

    settings = warehouse.settings
    result = publish_site(settings, context.run.run_id, progress=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "site": dg.MetadataValue.path(str(settings.site_dir / "index.html")),
            "pages": len(result["pages"]),
            "latest_quarter": result["latest_quarter"],
            "cards": ", ".join(result["cards"]),
        }
    )
