"""The extract contract (extracts.yml), loaded into plain objects.

extracts.yml is the only definition of the raw extracts: landing, the demo generator, the tests and
docs/extract-contract.md all read it from here. Code sets come from the dbt seeds named in it, so the
allowed values are also defined once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from orchestration.settings import SEEDS_DIR

CONTRACT_PATH = Path(__file__).with_name("extracts.yml")
TYPES = ("string", "integer", "boolean", "timestamp", "date", "code")
SECONDS_PER = {"_minutes": 60, "_hours": 3600, "_days": 86400}  # a duration setting's unit, by its suffix
DURATION_UNITS = tuple(SECONDS_PER)


class ContractError(ValueError):
    """The contract file itself is inconsistent."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str
    codes: str | None = None  # seed name, for type == "code"
    sensitive: bool = False


@dataclass(frozen=True)
class Extract:
    name: str
    dbt_source: str
    system: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    order_checks: tuple[tuple[str, str], ...] = ()
    # (start, end, city setting): end - start at most the limit; the setting's suffix gives the unit
    duration_limits: tuple[tuple[str, str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Contract:
    extracts: dict[str, Extract]
    timestamp_formats_offset: tuple[str, ...]
    timestamp_formats_local: tuple[str, ...]
    date_formats: tuple[str, ...]
    null_tokens: tuple[str, ...]
    files: dict = field(default_factory=dict)

    def extract_for_filename(self, filename: str) -> Extract | None:
        """The extract a file belongs to: `<extract>_<YYYYMMDD>[_<part>].<ext>` (longest name wins)."""
        stem = filename.split(".", 1)[0]
        matches = [e for name, e in self.extracts.items() if stem == name or stem.startswith(name + "_")]
        return max(matches, key=lambda e: len(e.name)) if matches else None


def _parse(raw: dict) -> Contract:
    extracts = {}
    for name, spec in raw["extracts"].items():
        columns = []
        for col_name, col in spec["columns"].items():
            if col["type"] not in TYPES:
                raise ContractError(f"{name}.{col_name}: unknown type {col['type']!r}")
            if col["type"] == "code" and not col.get("codes"):
                raise ContractError(f"{name}.{col_name}: a code column needs `codes: <seed>`")
            columns.append(
                Column(
                    name=col_name,
                    type=col["type"],
                    nullable=bool(col["nullable"]),
                    description=col["description"],
                    codes=col.get("codes"),
                    sensitive=bool(col.get("sensitive", False)),
                )
            )
        names = {c.name for c in columns}
        order = tuple((c["earlier"], c["later"]) for c in spec.get("order_checks", []))
        limits = tuple((c["start"], c["end"], c["setting"]) for c in spec.get("duration_limits", []))
        for _, _, setting in limits:
            if not setting.endswith(DURATION_UNITS):
                raise ContractError(f"{name}: duration limit setting {setting!r} must end in {DURATION_UNITS}")
        for col_name in [*spec["key"], *(n for pair in order for n in pair), *(n for c in limits for n in c[:2])]:
            if col_name not in names:
                raise ContractError(f"{name}: {col_name!r} is used as a key or in order_checks but is not a column")
        extracts[name] = Extract(
            name=name,
            dbt_source=spec["dbt_source"],
            system=spec["system"],
            description=spec["description"],
            key=tuple(spec["key"]),
            columns=tuple(columns),
            order_checks=order,
            duration_limits=limits,
        )
    return Contract(
        extracts=extracts,
        timestamp_formats_offset=tuple(raw["timestamp_formats"]["with_offset"]),
        timestamp_formats_local=tuple(raw["timestamp_formats"]["local"]),
        date_formats=tuple(raw["date_formats"]),
        null_tokens=tuple(raw["files"]["null_tokens"]),
        files=raw["files"],
    )


@cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    with open(path, encoding="utf-8") as fh:
        return _parse(yaml.safe_load(fh))


@cache
def code_set(seed: str, seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """Allowed codes for a `code` column: the `code` column of seeds/<seed>.csv."""
    path = seeds_dir / f"{seed}.csv"
    if not path.exists():
        raise ContractError(f"code set seed {path} does not exist")
    with open(path, encoding="utf-8", newline="") as fh:
        return tuple(row["code"] for row in csv.DictReader(fh))


def render_markdown(contract: Contract | None = None) -> str:
    """docs/extract-contract.md, generated from extracts.yml (a test keeps the two in step)."""
    contract = contract or load_contract()
    f = contract.files
    out = [
        "# Extract contract",
        "",
        "<!-- Generated from orchestration/contract/extracts.yml by "
        "`python -m orchestration.contract --render`. Do not edit by hand. -->",
        "",
        "What a city's extract jobs deliver to the landing folder. Landing checks every file against",
        "this contract: file-level problems reject the whole file with one message; row-level problems",
        "send the row to `land.quarantine` with its file, line, column and reason. Real exports with other",
        "column names are mapped into this contract by configuration (see `docs/mapping-real-exports.md`).",
        "",
        "Row rules: a timestamp outside the city's plausible window (`city.yml` `plausible_window`: by default",
        "from 1990-01-01 to 24 hours after the drop's extraction time) is quarantined, so a misread century is",
        "never loaded; integers are digits only; the order checks and duration limits below are applied to",
        "every row. How many quarantined rows block publishing is the city's `thresholds.max_quarantine_share`.",
        "",
        "## Files",
        "",
        f"- **Encoding:** {f['encoding']}",
        f"- **Formats:** {', '.join(f['formats'])}",
        f"- **CSV:** {f['csv']}",
        f"- **Empty values:** {', '.join(repr(t) for t in contract.null_tokens)} are read as empty.",
        f"- **Naming:** {f['naming']}",
        f"- **Versions:** {f['versions']}",
        f"- **Delivery:** {f['delivery']}",
        "",
        "## Timestamps",
        "",
        "Source timestamps are local time in the city's time zone (setting `ALT911_CITY_TZ`); they are stored",
        "as UTC. Formats with a UTC offset are exact and preferred:",
        "",
        *[f"- `{fmt}`" for fmt in contract.timestamp_formats_offset],
        "",
        "Local wall-clock formats (in the repeated hour when clocks fall back, a time is read as standard",
        "time; a time skipped when clocks spring forward is moved one hour later; no row is dropped):",
        "",
        *[f"- `{fmt}`" for fmt in contract.timestamp_formats_local],
        "",
        f"Dates: {', '.join(f'`{d}`' for d in contract.date_formats)}.",
        "",
        "## Extracts",
        "",
    ]
    for e in contract.extracts.values():
        out += [
            f"### `{e.name}`",
            "",
            f"{e.description} Source: {e.system}. Key: `{', '.join(e.key)}`.",
            "",
        ]
        if e.order_checks:
            checks = "; ".join(f"`{a}` ≤ `{b}`" for a, b in e.order_checks)
            out += [f"Row checks: {checks} (when both are present).", ""]
        if e.duration_limits:
            limits = "; ".join(f"`{b}` − `{a}` ≤ city setting `limits.{s}`" for a, b, s in e.duration_limits)
            out += [f"Duration limits: {limits}.", ""]
        out += ["| column | type | required | meaning |", "|---|---|---|---|"]
        for c in e.columns:
            type_ = f"code (`seeds/{c.codes}.csv`)" if c.type == "code" else c.type
            if c.sensitive:
                type_ += ", **sensitive**"
            out.append(f"| `{c.name}` | {type_} | {'no' if c.nullable else 'yes'} | {c.description} |")
        out.append("")
    codes = sorted({c.codes for e in contract.extracts.values() for c in e.columns if c.codes})
    out += ["## Code sets", ""]
    for seed in codes:
        out.append(f"- `{seed}`: {', '.join(f'`{v}`' for v in code_set(seed))}")
    out.append("")
    return "\n".join(out)


SQL_TYPES = {
    "string": "varchar",
    "integer": "bigint",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
    "code": "varchar",
}


def render_dbt_sources(contract: Contract | None = None) -> str:
    """dbt_project/models/staging/_sources.yml, generated from extracts.yml (a test keeps the two in step)."""
    contract = contract or load_contract()
    by_source: dict[str, list[Extract]] = {}
    for e in contract.extracts.values():
        by_source.setdefault(e.dbt_source, []).append(e)
    sources = []
    for name, extracts in by_source.items():
        tables = []
        for e in extracts:
            # the pii tag is what the privacy test (assert_no_pii_column_past_staging) reads
            columns = [
                {
                    "name": c.name,
                    "data_type": SQL_TYPES[c.type],
                    "description": c.description,
                    **({"config": {"tags": ["pii"]}} if c.sensitive else {}),
                }
                for c in e.columns
            ]
            columns += [
                {
                    "name": "_extracted_at",
                    "data_type": "timestamp",
                    "description": "Extract time (UTC) of the drop this version came from; the latest wins.",
                },
                {"name": "_source_file", "data_type": "varchar", "description": "Landing-folder path of the file."},
                {
                    "name": "_source_line",
                    "data_type": "bigint",
                    "description": "Line (CSV) or row (Parquet) in that file.",
                },
                {"name": "_landed_at", "data_type": "timestamp", "description": "When landing wrote the row (UTC)."},
            ]
            tables.append(
                {
                    "name": e.name,
                    "description": f"{e.description} Key: {', '.join(e.key)}. Contract: docs/extract-contract.md.",
                    "config": {"meta": {"dagster": {"asset_key": ["raw", e.name]}}},
                    "columns": columns,
                }
            )
        sources.append(
            {
                "name": name,
                "description": f"Raw extracts from {extracts[0].system}, landed by orchestration/land "
                "(one row per key).",
                "schema": "raw",
                "config": {
                    "loaded_at_field": "_landed_at",
                    "freshness": {
                        "warn_after": {"count": 26, "period": "hour"},
                        "error_after": {"count": 72, "period": "hour"},
                    },
                },
                "tables": tables,
            }
        )
    header = (
        "# Generated from orchestration/contract/extracts.yml by `python -m orchestration.contract --render`.\n"
        "# Do not edit by hand.\n"
    )
    return header + yaml.safe_dump({"version": 2, "sources": sources}, sort_keys=False, width=120)
