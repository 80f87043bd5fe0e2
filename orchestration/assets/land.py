"""Landing: extract drops in the landing folder become the DuckDB raw tables (one asset per table).

Each raw table carries a blocking check, `landed_cleanly`: no file of that extract is rejected (a
rejected file is judged again every run until it is fixed or removed; an unknown extract name fails
every table's check), and quarantined rows stay under the city's share among all files landed since the
last publish. The check judges that state, not one landing: a rerun with nothing new fails as the
last run did, until the data changes or a person raises the limit in city.yml. A failure stops
everything downstream; the good files are kept and the next run only lands what is new or fixed.

When nothing new landed and the data and rules are those the current release was built from
(orchestration/build_state.py), the raw tables are not materialized, so dbt, the quality gates and
publishing are skipped: the run succeeds, says so, and the serving copy stays as it is."""

import datetime as dt
from collections import defaultdict

import dagster as dg
from pydantic import Field

from orchestration.assets.resources import Warehouse
from orchestration.build_state import read_published, unchanged_since_publish
from orchestration.contract import load_contract
from orchestration.land.loader import land, quarantine_since
from orchestration.land.validate import RowRules

CONTRACT = load_contract()


def last_published_at(settings) -> dt.datetime:
    """When the serving copy was last published (naive UTC), or the distant past before the first publish."""
    published_at = read_published(settings).get("published_at")
    if published_at is None:
        return dt.datetime(1900, 1, 1)
    return dt.datetime.fromisoformat(published_at).astimezone(dt.UTC).replace(tzinfo=None)


LEDGER_KEY = dg.AssetKey(["land", "file_ledger"])  # the dbt source landing.file_ledger


def raw_asset_key(extract: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", extract])


class LandingConfig(dg.Config):
    rebuild: bool = Field(
        default=False,
        description="Build, check and publish even when nothing new landed (after a manual change to the "
        "warehouse, or to be sure). `python -m orchestration land --rebuild` sets it.",
    )


@dg.multi_asset(
    name="land_extract_drops",
    specs=[
        dg.AssetSpec(
            raw_asset_key(e.name),
            group_name="raw",
            description=f"{e.description} (source: {e.system}; key: {', '.join(e.key)})",
            kinds={"duckdb"},
            metadata={"contract": "docs/extract-contract.md"},
            skippable=True,  # not materialized when nothing is new: everything downstream is skipped
        )
        for e in CONTRACT.extracts.values()
    ]
    + [
        dg.AssetSpec(
            LEDGER_KEY,
            group_name="raw",
            description="One row per file landed, with rows read, loaded and quarantined (land.file_ledger): the "
            "rows-quarantined data-quality indicator reads it",
            kinds={"duckdb"},
            skippable=True,
        )
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "landed_cleanly",
            asset=raw_asset_key(name),
            blocking=True,
            description="No file rejected and quarantined rows under the threshold in this landing.",
        )
        for name in CONTRACT.extracts
    ],
    can_subset=False,
)
def land_extract_drops(context: dg.AssetExecutionContext, config: LandingConfig, warehouse: Warehouse):
    """Land every new file under the landing folder into raw.<extract>, with ledger and quarantine."""
    settings = warehouse.settings
    report = land(
        settings.landing_dir,
        settings.warehouse_path,
        settings.city_tz,
        progress=context.log.info,
        rules=RowRules.from_settings(settings),
        settle_seconds=settings.settle_seconds,
        memory_limit=settings.landing_memory_limit,
    )
    context.log.info("\n" + report.summary())
    if report.waiting:
        context.log.warning(
            f"{len(report.waiting)} file(s) changed within the last {settings.settle_seconds:.0f} s "
            f"({settings.setting_name('settle_seconds')}) are left for the next run: " + ", ".join(report.waiting[:20])
        )
    if not (report.landed or report.rejected or config.rebuild):
        published_at = unchanged_since_publish(settings)
        if published_at:
            message = (
                f"nothing new since the release published at {published_at}: no file landed and the rules, "
                "seeds, code and settings are those it was built from, so dbt, the quality gates and "
                "publishing are skipped; the serving copy stays as it is (`land --rebuild` builds anyway)"
            )
            context.log.info(message)
            for name in CONTRACT.extracts:
                yield dg.AssetCheckResult(
                    asset_key=raw_asset_key(name), check_name="landed_cleanly", passed=True, description=message
                )
            return
    per = report.per_extract()
    state = quarantine_since(settings.warehouse_path, last_published_at(settings))
    rejected = defaultdict(list)
    for rej in report.rejected:
        extract = CONTRACT.extract_for_filename(rej.path.name)
        for name in [extract.name] if extract else CONTRACT.extracts:
            rejected[name].append(f"{rej.path}: {rej.problem}")
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
                # a wrong century or time zone shows at a glance in the UI
                "dates_landed_utc": " .. ".join(f"{d:%Y-%m-%d %H:%M}" for d in report.date_ranges.get(name, ())),
            },
        )
        since = state.get(name, dict(read=0, quarantined=0, examples=[]))
        share = since["quarantined"] / since["read"] if since["read"] else 0.0
        problems = list(rejected[name])
        if share > settings.max_quarantine_share:
            problems.append(
                f"{since['quarantined']:,} of {since['read']:,} rows landed since the last publish are "
                f"quarantined ({share:.2%}, limit {settings.max_quarantine_share:.2%}, set in "
                f"{settings.setting_name('max_quarantine_share')}); it keeps failing until the data "
                f"changes or the limit does. First {len(since['examples'])} in land.quarantine:\n  "
                + "\n  ".join(since["examples"])
            )
        yield dg.AssetCheckResult(
            asset_key=raw_asset_key(name),
            check_name="landed_cleanly",
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(problems) if problems else "all files landed; quarantine within the limit",
            metadata={
                "rejected_files": len(rejected[name]),
                "rows_quarantined_since_publish": since["quarantined"],
                "quarantine_share_since_publish": share,
                "problems": "\n".join(problems),
            },
        )
    yield dg.MaterializeResult(
        asset_key=LEDGER_KEY,
        metadata={
            "files_landed": sum(t["files"] for t in per.values()),
            "rows_read": sum(t["read"] for t in per.values()),
            "rows_quarantined": sum(t["quarantined"] for t in per.values()),
        },
    )
