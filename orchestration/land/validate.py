"""Row-level validation SQL, generated from the contract.

Every incoming row (all strings) gets a list of problems. A row with none is typed and loaded;
a row with any goes to quarantine with its first problem's column and every reason. Because the
split is one predicate (`len(problems) = 0`), every row read ends in exactly one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orchestration.contract import SECONDS_PER, Column, Contract, Extract, code_set, load_contract
from orchestration.settings import Settings


def _limit_settings() -> set[str]:
    """The city settings the contract's duration limits name (the contract is their one home)."""
    return {setting for e in load_contract().extracts.values() for _, _, setting in e.duration_limits}


@dataclass(frozen=True)
class RowRules:
    """The city's row rules (city.yml plausible_window and limits), applied at landing."""

    earliest: dt.date = dt.date(1990, 1, 1)
    latest_after_extract_hours: float = 24.0
    # setting name -> value, in the unit its suffix names; defaults are the Settings defaults
    limits: dict = field(default_factory=lambda: {name: getattr(Settings, name) for name in _limit_settings()})

    @classmethod
    def from_settings(cls, settings) -> RowRules:
        return cls(
            settings.plausible_earliest,
            settings.plausible_latest_after_extract_hours,
            {name: getattr(settings, name) for name in _limit_settings()},
        )

    def limit_seconds(self, setting: str) -> float:
        unit = next(u for u in SECONDS_PER if setting.endswith(u))
        return float(self.limits[setting]) * SECONDS_PER[unit]


TRUE_TOKENS = ("true", "t", "yes", "y", "1")
FALSE_TOKENS = ("false", "f", "no", "n", "0")


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def normalized(col: Column, null_tokens: tuple[str, ...]) -> str:
    """The trimmed string, NULL for null tokens."""
    tokens = ", ".join(lit(t) for t in null_tokens)
    return f"CASE WHEN trim({q(col.name)}) IN ({tokens}) THEN NULL ELSE trim({q(col.name)}) END"


def typed(col: Column, contract: Contract, city_tz: str, value: str) -> str:
    """SQL turning the normalized string `value` into the column's type (NULL when it does not parse)."""
    if col.type == "string":
        return value
    if col.type == "integer":  # digits only: DuckDB would round '3.7' and read '0x2' and '1e0'
        return f"CASE WHEN regexp_full_match({value}, '[+-]?[0-9]+') THEN TRY_CAST({value} AS BIGINT) END"
    if col.type == "boolean":
        return (
            f"CASE WHEN lower({value}) IN ({', '.join(map(lit, TRUE_TOKENS))}) THEN TRUE "
            f"WHEN lower({value}) IN ({', '.join(map(lit, FALSE_TOKENS))}) THEN FALSE END"
        )
    if col.type == "timestamp":
        # Stored as naive UTC. Offsets are exact; local formats are read in the city's zone.
        with_offset = f"timezone('UTC', try_strptime({value}, {_list(contract.timestamp_formats_offset)}))"
        local = (
            f"timezone('UTC', timezone({lit(city_tz)}, "
            f"try_strptime({value}, {_list(contract.timestamp_formats_local)})))"
        )
        return f"COALESCE({with_offset}, {local})"
    if col.type == "date":
        return f"CAST(try_strptime({value}, {_list(contract.date_formats)}) AS DATE)"
    if col.type == "code":
        cases = " ".join(f"WHEN {lit(code.lower())} THEN {lit(code)}" for code in code_set(col.codes))
        return f"CASE lower({value}) {cases} END"
    raise AssertionError(col.type)


def _problem(column: str, condition: str, reason_sql: str) -> tuple[str, str]:
    """(the condition, the problem it makes: a {column, reason} struct, NULL when the condition does not hold)"""
    return condition, f"CASE WHEN {condition} THEN {{'column': {lit(column)}, 'reason': {reason_sql}}} END"


def _type_reason(col: Column, raw: str) -> str:
    # a sensitive value (a birth date) is never copied into a reason: reasons reach logs and run records
    shown = "'(value not shown: sensitive column)'" if col.sensitive else f"'''' || left({raw}, 60) || ''''"
    if col.type == "timestamp":
        return f"'unparseable timestamp ' || {shown}"
    if col.type == "date":
        return f"'unparseable date ' || {shown}"
    if col.type == "code":
        allowed = ", ".join(code_set(col.codes))
        return f"'unknown code ' || {shown} || {lit(f' (allowed: {allowed})')}"
    return f"'wrong type: expected {col.type}, got ' || {shown}"


def record_sql(extract: Extract, alias: str = "") -> str:
    """The row as sent, as JSON text (what a quarantined row keeps)."""
    prefix = f"{alias}." if alias else ""
    fields = ", ".join(f"{lit(c.name)}: {prefix}{q(c.name)}" for c in extract.columns)
    return f"CAST(to_json({{{fields}}}) AS VARCHAR)"


def validation_sql(
    extract: Extract, contract: Contract, city_tz: str, source: str, rules: RowRules | None = None
) -> str:
    """SELECT over `source` (contract columns as strings, plus _file_idx, _line, _shape_error and
    _plausible_until, the latest timestamp the row's file may carry) giving the typed columns,
    `problems` (a list of {column, reason}) and `record` (the original row as JSON, so a quarantined
    row keeps everything that was sent; NULL for a row without problems)."""
    rules = rules or RowRules()
    norm = {c.name: f"n_{i}" for i, c in enumerate(extract.columns)}
    typ = {c.name: f"t_{i}" for i, c in enumerate(extract.columns)}
    normalize = ",\n        ".join(f"{normalized(c, contract.null_tokens)} AS {norm[c.name]}" for c in extract.columns)
    typing = ",\n        ".join(
        f"{typed(c, contract, city_tz, norm[c.name])} AS {typ[c.name]}" for c in extract.columns
    )

    problems = [
        (
            "_shape_error IS NOT NULL",
            "CASE WHEN _shape_error IS NOT NULL THEN {'column': NULL, 'reason': _shape_error} END",
        )
    ]
    for c in extract.columns:
        n, t = norm[c.name], typ[c.name]
        if not c.nullable:
            reason = "missing key" if c.name in extract.key else "missing required value"
            problems.append(_problem(c.name, f"{n} IS NULL", lit(reason)))
        if c.type != "string":
            problems.append(_problem(c.name, f"{n} IS NOT NULL AND {t} IS NULL", _type_reason(c, n)))
        if c.type == "timestamp":  # a misread century or a typo is never loaded
            problems.append(
                _problem(
                    c.name,
                    f"{t} < TIMESTAMP '{rules.earliest.isoformat()}' OR {t} > _plausible_until",
                    f"strftime({t}, '%Y-%m-%d %H:%M') || ' UTC is outside the plausible window "
                    f"({rules.earliest.isoformat()} to ' || strftime(_plausible_until, '%Y-%m-%d %H:%M') || "
                    f"' UTC, {rules.latest_after_extract_hours:g} h after the extract, city.yml plausible_window)'",
                )
            )
    for earlier, later in extract.order_checks:
        te, tl = typ[earlier], typ[later]
        problems.append(_problem(later, f"{tl} < {te}", lit(f"{later} is before {earlier}")))
    for start, end, setting in extract.duration_limits:
        ts, te = typ[start], typ[end]
        limit = rules.limits[setting]
        problems.append(
            _problem(
                end,
                f"date_diff('second', {ts}, {te}) > {rules.limit_seconds(setting)}",
                f"'{end} is ' || CAST(round(date_diff('second', {ts}, {te}) / 60.0) AS BIGINT) "
                f"|| ' minutes after {start}, over the "
                f"limit of {limit:g} {setting.rsplit('_', 1)[1]} (city.yml limits.{setting})'",
            )
        )
    problem_list = ",\n            ".join(problem for _, problem in problems)
    # The list is built only for rows with a problem: most rows have none, and building it costs more
    # than testing the conditions.
    any_problem = "\n        OR ".join(f"({condition})" for condition, _ in problems)
    outputs = ", ".join(f"{typ[c.name]} AS {q(c.name)}" for c in extract.columns)

    return f"""
SELECT _file_idx, _line, {outputs},
       CASE WHEN {any_problem}
       THEN list_filter([
            {problem_list}
       ], p -> p IS NOT NULL)
       ELSE CAST([] AS STRUCT("column" VARCHAR, reason VARCHAR)[]) END AS problems,
       -- only a quarantined row needs the row as sent (the JSON of every row costs a tenth of landing)
       CASE WHEN len(problems) > 0 THEN {record_sql(extract)} END AS record
FROM (
    SELECT *, {typing}
    FROM (
        SELECT *, {normalize}
        FROM {source}
    )
)
"""
