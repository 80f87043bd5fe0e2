"""Landing: extract drops in the landing folder become the DuckDB raw tables (one asset per table)."""


import dagster as dg

from orchestration.contract import load_contract
from orchestration.land.loader import land
from orchestration.settings import load_settings

CONTRACT = load_contract()


def raw_asset_key(extract: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", extract])


@dg.multi_asset(
    name="land_extract_drops",
    specs=[
        dg.AssetSpec(
            raw_asset_key(e.name),
            group_name="raw",
            description=f"{e.description} (source: {e.system}; key: {', '.join(e.key)})",
            kinds={"duckdb"},
            metadata={"contract": "docs/extract-contract.md#" + e.name.replace("_", "")},
        )
        for e in CONTRACT.extracts.values()
    ],
    can_subset=False,
    # one writer at a time for the warehouse file (DuckDB allows a single writing process)
    pool="warehouse_writer",
)
def land_extract_drops(context: dg.AssetExecutionContext):
    """Land every new file under the landing folder into raw.<extract>, with ledger and quarantine.

    Fails (after keeping every good file) when any file is rejected, naming each file and its problem,
    so nothing downstream runs on a partial picture."""
    settings = load_settings()
    report = land(settings.landing_dir, settings.warehouse_path, settings.city_tz, progress=context.log.info)
    context.log.info("\n" + report.summary())
    per = report.per_extract()
    for name in CONTRACT.extracts:
        t = per.get(name, dict(files=0, read=0, loaded=0, quarantined=0))
        yield dg.MaterializeResult(
            asset_key=raw_asset_key(name),
            metadata={
                "files_landed": t["files"],
                "rows_read": t["read"],
                "rows_loaded": t["loaded"],
                "rows_quarantined": t["quarantined"],
                "rows_in_table": report.table_rows.get(name, 0),
            },
        )
    if report.rejected:
        raise dg.Failure(
            description=f"{len(report.rejected)} file(s) rejected; nothing from them was loaded:\n"
            + "\n".join(f"- {r.path}: {r.problem}" for r in report.rejected),
            metadata={"rejected_files": [str(r.path) for r in report.rejected]},
        )
