"""Landing: nothing lost, nothing duplicated, nothing half-loaded; clear errors for bad files."""

from __future__ import annotations

import json
import shutil
import time

import duckdb
import pytest

from orchestration.contract import load_contract
from orchestration.land import loader
from orchestration.land.loader import land

CONTRACT = load_contract()
TZ = "America/New_York"


def quiet(_):
    pass


def sql(warehouse, query, params=None):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def table_digest(warehouse) -> dict:
    """Content of every raw table, ignoring landing bookkeeping columns."""
    out = {}
    for name, extract in CONTRACT.extracts.items():
        cols = ", ".join(f'"{c}"' for c in extract.column_names)
        out[name] = sql(warehouse, f"SELECT count(*), sum(hash({cols})) FROM raw.{name}")[0]
    return out


# ------------------------------------------------------------------------------------ the demo city


def test_every_file_reconciles(small_city):
    rows = sql(small_city["warehouse"], "SELECT path, rows_read, rows_loaded, rows_quarantined FROM land.file_ledger")
    assert len(rows) == len(small_city["report"].landed)
    for path, read, loaded, quarantined in rows:
        assert read == loaded + quarantined, path


def test_raw_tables_hold_each_record_once_as_the_truth_counts_them(small_city):
    t, w = small_city["truth"], small_city["warehouse"]
    assert sql(w, "SELECT count(*), count(DISTINCT incident_number) FROM raw.cad_incidents")[0] == (
        t["volume"]["incidents"],
        t["volume"]["incidents"],
    )
    assert sql(w, "SELECT count(*) FROM raw.cad_calls")[0][0] == t["volume"]["calls"]
    assert sql(w, "SELECT count(*) FROM raw.cm_encounters")[0][0] == t["encounters"]["total"]
    # overlapping CAD drops: every incident was sent twice, stored once
    read = sql(w, "SELECT sum(rows_read) FROM land.file_ledger WHERE extract = 'cad_incidents'")[0][0]
    assert read == 2 * t["volume"]["incidents"]


def test_timestamps_are_utc_and_dst_neither_creates_nor_loses_incidents(small_city):
    t, w = small_city["truth"], small_city["warehouse"]
    by_date = dict(
        sql(
            w,
            f"""
        SELECT strftime(timezone('{TZ}', timezone('UTC', received_at)), '%Y-%m-%d'), count(*)
        FROM raw.cad_incidents GROUP BY 1""",
        )
    )
    assert by_date == t["volume"]["by_local_date"]
    hours = sql(
        w,
        f"""
        SELECT count(DISTINCT date_trunc('hour', received_at)) FROM raw.cad_incidents
        WHERE strftime(timezone('{TZ}', timezone('UTC', received_at)), '%Y-%m-%d') = '2023-11-05'""",
    )[0][0]
    assert hours == 25  # the fall-back day has 25 real hours, each with incidents


def test_later_versions_replace_earlier_ones(small_city):
    """CAD re-sends yesterday with late clears; case management re-sends a closed encounter with its outcome."""
    w = small_city["warehouse"]
    assert sql(w, "SELECT count(*) FROM raw.cad_unit_assignments WHERE cleared_at IS NULL")[0][0] == 0
    assert sql(w, "SELECT count(*) FROM raw.cm_encounters WHERE primary_outcome IS NULL")[0][0] == 0
    # at least some encounters were first landed open, then updated by a later drop
    updated = sql(
        w,
        """
        SELECT count(*) FROM raw.cm_encounters e
        WHERE e._source_file NOT LIKE
              strftime(timezone('America/New_York', timezone('UTC', e.started_at)), '%Y-%m-%d') || '/%'""",
    )[0][0]
    assert updated > 0


def test_landing_twice_changes_nothing(small_city, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(small_city["warehouse"], warehouse)
    before = table_digest(warehouse)
    report = land(small_city["landing"], warehouse, TZ, progress=quiet)
    assert not report.landed and len(report.skipped) == len(small_city["report"].landed)
    assert table_digest(warehouse) == before
    assert sql(warehouse, "SELECT count(*) FROM land.file_ledger")[0][0] == len(small_city["report"].landed)


def test_an_unchanged_file_is_not_read_again_and_an_edited_one_always_is(tmp_path, monkeypatch):
    """A run with nothing new must not re-read every file ever landed; a file edited in place is read
    again even when its size and modification time were put back as they were."""
    import os

    landing = tmp_path / "landing"
    (landing / "2024-01-01").mkdir(parents=True)
    path = landing / "2024-01-01" / "cm_referrals_20240101.csv"
    header = ",".join(CONTRACT.extracts["cm_referrals"].column_names)
    path.write_text(f"{header}\nR1,E1,food,2024-01-01T10:00:00-05:00\n")
    time.sleep(2.1)  # a file changed within two seconds is always read again (the clock ticks coarsely)
    warehouse = tmp_path / "w.duckdb"
    assert len(land(landing, warehouse, TZ, progress=quiet).landed) == 1

    reads = []  # every read of a file's bytes starts with scanning it (checksum)
    real_scan = loader.scan_file
    monkeypatch.setattr(loader, "scan_file", lambda path: reads.append(path.name) or real_scan(path))
    again = land(landing, warehouse, TZ, progress=quiet)
    assert not again.landed and again.skipped == ["2024-01-01/cm_referrals_20240101.csv"] and reads == []

    before = path.stat()
    path.write_text(f"{header}\nR1,E2,food,2024-01-01T10:00:00-05:00\n")  # same size, new content
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as a copy keeping times would leave it
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    time.sleep(2.1)
    edited = land(landing, warehouse, TZ, progress=quiet)
    assert len(edited.landed) == 1 and reads == ["cm_referrals_20240101.csv"]
    assert sql(warehouse, "SELECT encounter_id FROM raw.cm_referrals") == [("E2",)]


def test_every_landing_stamps_its_rows_later_than_any_before_even_if_the_clock_went_back(tmp_path):
    """Incremental staging reads the rows stamped after the newest it holds: a landing in the same second
    as the last, or after the clock went back, must still stamp later."""
    landing = tmp_path / "landing"
    header = ",".join(CONTRACT.extracts["cm_referrals"].column_names)
    warehouse = tmp_path / "w.duckdb"
    stamps = []
    for n in range(3):
        (landing / f"2024-01-0{n + 1}").mkdir(parents=True)
        (landing / f"2024-01-0{n + 1}" / f"cm_referrals_2024010{n + 1}.csv").write_text(
            f"{header}\nR{n},E1,food,2024-01-01T10:00:00-05:00\n"
        )
        if n == 2:  # the clock went back: the ledger holds a landing an hour in the future
            with duckdb.connect(str(warehouse)) as con:
                con.execute("UPDATE land.file_ledger SET landed_at = landed_at + INTERVAL 1 HOUR")
        land(landing, warehouse, TZ, progress=quiet)
        stamps.append(sql(warehouse, f"SELECT _landed_at FROM raw.cm_referrals WHERE referral_id = 'R{n}'")[0][0])
    ledger_before = sql(warehouse, "SELECT max(landed_at) FROM land.file_ledger WHERE path NOT LIKE '2024-01-03%'")
    assert stamps[0] < stamps[1] < stamps[2] and stamps[2] > ledger_before[0][0]


def test_drop_order_does_not_matter(small_city, tmp_path):
    """Landing drops newest first gives the same tables: the latest extract wins, not the latest landed."""
    warehouse = tmp_path / "w.duckdb"
    folders = sorted(p for p in small_city["landing"].iterdir() if p.is_dir())
    for folder in reversed(folders):
        staging = tmp_path / "one_drop"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(folder, staging / folder.name)
        land(staging, warehouse, TZ, progress=quiet, batch_rows=10**9)
    assert table_digest(warehouse) == table_digest(small_city["warehouse"])


def test_rows_staged_in_duckdb_under_a_small_memory_limit_land_the_same(injected_city, tmp_path, monkeypatch):
    """A large file's rows go to DuckDB block by block, validated on their way, and what follows runs
    there, spilling to disk beyond DuckDB's memory limit: the same rows, quarantine and ledger as the path
    that holds them in Python."""
    monkeypatch.setattr(loader._Stage, "_to_duckdb", _counting(loader._Stage._to_duckdb, staged := []))
    monkeypatch.setattr(loader, "STAGE_ROWS", 7)  # every file of a few rows takes the large-file path
    warehouse = tmp_path / "w.duckdb"
    report = land(injected_city["landing"], warehouse, TZ, progress=quiet, batch_rows=50, memory_limit="64MB")
    assert len(report.landed) == len(injected_city["report"].landed) and len(report.landed) > 10
    assert table_digest(warehouse) == table_digest(injected_city["warehouse"])
    for query in (
        "SELECT path, line, column_name, reason, record FROM land.quarantine ORDER BY ALL",
        "SELECT path, checksum, rows_read, rows_loaded, rows_quarantined FROM land.file_ledger ORDER BY ALL",
    ):
        assert sql(warehouse, query) == sql(injected_city["warehouse"], query)
    assert sql(warehouse, "SELECT count(*) FROM land.quarantine")[0][0] > 0
    assert len(staged) > 10  # the rows did go through DuckDB


def test_a_memory_limit_duckdb_cannot_read_is_a_clear_error(tmp_path):
    (tmp_path / "landing").mkdir()
    with pytest.raises(ValueError, match="ALT911_LANDING_MEMORY_LIMIT.*like 1GB"):
        land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet, memory_limit="lots")


def _counting(method, calls: list):
    def counted(self, *args):
        calls.append(1)
        return method(self, *args)

    return counted


def test_update_drop_updates_an_earlier_record(tmp_path):
    landing = tmp_path / "landing"
    header = ",".join(CONTRACT.extracts["cm_referrals"].column_names)
    (landing / "2024-01-01").mkdir(parents=True)
    (landing / "2024-01-02").mkdir(parents=True)
    (landing / "2024-01-01" / "cm_referrals_20240101.csv").write_text(
        f"{header}\nR1,E1,food,2024-01-01T10:00:00-05:00\nR2,E1,other,2024-01-01T10:00:00-05:00\n"
    )
    (landing / "2024-01-02" / "cm_referrals_20240102.csv").write_text(
        f"{header}\nR1,E1,housing_shelter,2024-01-01T10:00:00-05:00\n"
    )
    land(landing, tmp_path / "w.duckdb", TZ, progress=quiet)
    assert sql(tmp_path / "w.duckdb", "SELECT referral_id, referral_type FROM raw.cm_referrals ORDER BY 1") == [
        ("R1", "housing_shelter"),
        ("R2", "other"),
    ]


# ------------------------------------------------------------------------------------ planted bad input


def test_every_injected_bad_row_is_quarantined_where_it_was_planted(injected_city):
    w = injected_city["warehouse"]
    planted = [i for i in injected_city["injections"] if i["expect"] == "quarantine"]
    assert {i["class"] for i in planted} == {
        "unparseable_timestamp",
        "missing_key",
        "unknown_code",
        "wrong_type",
        "arrival_before_dispatch",
    }
    quarantine = sql(w, "SELECT path, line, column_name, reason, record FROM land.quarantine ORDER BY path, line")
    assert len(quarantine) == len(planted), "clean rows must never be quarantined"
    for inj in planted:
        match = [q for q in quarantine if q[0] == inj["file"] and q[1] == inj["line"]]
        assert match, inj
        path, line, column, reason, record = match[0]
        assert column == inj["column"] and inj["reason"] in reason, (inj, reason)
        assert json.loads(record)  # the row as sent is kept


def test_every_injected_bad_file_is_rejected_whole_with_a_clear_message(injected_city):
    w, report = injected_city["warehouse"], injected_city["report"]
    planted = [i for i in injected_city["injections"] if i["expect"] == "reject"]
    assert {i["class"] for i in planted} == {
        "missing_column",
        "renamed_column",
        "empty_file",
        "truncated_file",
        "wrong_encoding",
        "unknown_extract",
    }
    rejected = {str(r.path.relative_to(injected_city["landing"])): r.problem for r in report.rejected}
    assert set(rejected) == {i["file"] for i in planted}
    for inj in planted:
        assert inj["problem"] in rejected[inj["file"]], (inj, rejected[inj["file"]])
        assert sql(w, "SELECT count(*) FROM land.rejected_files WHERE path = ?", [inj["file"]])[0][0] == 1
        assert sql(w, "SELECT count(*) FROM land.file_ledger WHERE path = ?", [inj["file"]])[0][0] == 0
    for name in CONTRACT.extracts:
        files = sql(w, f"SELECT DISTINCT _source_file FROM raw.{name}")
        assert not {f for (f,) in files} & set(rejected), name


def test_bad_input_does_not_disturb_the_clean_data(injected_city):
    w, t = injected_city["warehouse"], injected_city["truth"]
    assert sql(w, "SELECT count(*) FROM raw.cad_incidents")[0][0] == t["volume"]["incidents"]
    assert sql(w, "SELECT count(*) FROM raw.cad_calls")[0][0] == t["volume"]["calls"]
    for _, read, loaded, quarantined in sql(
        w, "SELECT path, rows_read, rows_loaded, rows_quarantined FROM land.file_ledger"
    ):
        assert read == loaded + quarantined


# ------------------------------------------------------------------------------------ real-world mess


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


ENC_HEADER = ",".join(CONTRACT.extracts["cm_encounters"].column_names)


def test_crlf_bom_quoted_newlines_trailing_delimiters_and_timestamp_formats(tmp_path):
    landing = tmp_path / "landing"
    rows = [
        # ISO with offset, CRLF, a narrative with a quoted newline, comma and quotes
        "E1,I1,P1,crt,911_dispatch,2024-03-10T01:59:00-05:00,2024-03-10T03:30:00-04:00,resolved_on_scene,Y,,,,,"
        '"said ""hi"",\r\nthen left",2024-03-10T04:00:00-04:00,',
        # US 12-hour local time, booleans in other spellings, upper-case codes
        "E2,,P2,CRT,SELF_INITIATED,03/11/2024 01:05:00 PM,03/11/2024 02:00:00 PM,Referred,true,,,,,,"
        "03/11/2024 02:00:00 PM,",
        # local ISO without offset, fractional seconds with offset
        "E3,I3,,ccd,phone_resolved,2024-03-12 09:00:00,2024-03-12T09:20:00.250-04:00,declined_services,,,,,,,"
        "2024-03-12 09:30,",
    ]
    write(
        landing / "2024-03-12" / "cm_encounters_20240312.csv",
        "\ufeff" + ENC_HEADER + ",\r\n" + "\r\n".join(rows) + "\r\n",
    )
    report = land(landing, tmp_path / "w.duckdb", TZ, progress=quiet)
    assert not report.rejected and report.landed[0].rows_quarantined == 0, report.summary()
    got = sql(
        tmp_path / "w.duckdb",
        "SELECT encounter_id, started_at::VARCHAR, ended_at::VARCHAR, team_type, call_origin, "
        "primary_outcome, responder_felt_safe, narrative FROM raw.cm_encounters ORDER BY 1",
    )
    assert got == [
        (
            "E1",
            "2024-03-10 06:59:00",
            "2024-03-10 07:30:00",
            "crt",
            "911_dispatch",
            "resolved_on_scene",
            True,
            'said "hi",\r\nthen left',
        ),
        ("E2", "2024-03-11 17:05:00", "2024-03-11 18:00:00", "crt", "self_initiated", "referred", True, None),
        (
            "E3",
            "2024-03-12 13:00:00",
            "2024-03-12 13:20:00.25",
            "ccd",
            "phone_resolved",
            "declined_services",
            None,
            None,
        ),
    ]


def test_a_header_only_file_lands_zero_rows(tmp_path):
    write(tmp_path / "landing" / "d" / "cm_encounters_20240101.csv", ENC_HEADER + "\n")
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert [(r.rows_read, r.rows_loaded) for r in report.landed] == [(0, 0)]


@pytest.mark.parametrize(
    "name,content,problem",
    [
        ("cm_encounters_20240101.csv", b"", "file is empty"),
        ("cm_encounters_20240101.csv", "encounter_id,incident_number\nE1,I1\n", "missing column(s)"),
        ("cm_encounters_20240101.csv", ENC_HEADER.replace("team_type", "team") + "\n", "renamed?"),
        ("cm_encounters_20240101.csv", ENC_HEADER + ",extra\n", "unexpected column(s) 'extra'"),
        (
            "cm_encounters_20240101.csv",
            (ENC_HEADER + "\nE1,,,crt,911_dispatch,José").encode("cp1252"),
            "wrong encoding",
        ),
        ("cm_encounters_20240101.csv", (ENC_HEADER + "\n").encode("utf-16"), "wrong encoding"),
        (
            "cm_encounters_20240101.csv",
            ENC_HEADER + '\nE1,,,crt,911_dispatch,2024-01-01T10:00:00-05:00,,,,,,,,"unterminated',
            "truncated",
        ),
        ("cm_encounters_20240101.csv", ENC_HEADER + "\nE1,,,crt,911_dispatch,2024-01-01T1", "truncated"),
        ("cad_narratives_20240101.csv", "a,b\n1,2\n", "unknown extract name"),
        ("cm_encounters_20240101.xlsx", "not really", "unsupported file type"),
        ("cm_encounters_20240101.parquet", "not parquet", "not a readable Parquet file"),
    ],
)
def test_file_level_problems_reject_the_whole_file(tmp_path, name, content, problem):
    good = ENC_HEADER + "\nE9,,,crt,911_dispatch,2024-01-01T10:00:00-05:00,,,,,,,,,2024-01-01T10:00:00-05:00\n"
    write(tmp_path / "landing" / "d" / "cm_encounters_20240101_good.csv", good)
    bad = write(tmp_path / "landing" / "d" / name, content)
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert len(report.rejected) == 1 and report.rejected[0].path == bad
    assert problem in report.rejected[0].problem and str(bad) in str(report.rejected[0])
    assert sql(tmp_path / "w.duckdb", "SELECT encounter_id FROM raw.cm_encounters") == [("E9",)]  # only the good file


def test_manifest_row_count_and_checksum_are_enforced(tmp_path):
    body = ENC_HEADER + "\nE1,,,crt,911_dispatch,2024-01-01T10:00:00-05:00,,,,,,,,,2024-01-01T10:00:00-05:00\n"
    drop = tmp_path / "landing" / "2024-01-01"
    write(drop / "cm_encounters_20240101.csv", body)
    write(drop / "cm_referrals_20240101.csv", ",".join(CONTRACT.extracts["cm_referrals"].column_names) + "\n")
    write(
        drop / "_manifest.json",
        json.dumps(
            {
                "extracted_at": "2024-01-02T02:00:00-05:00",
                "files": {
                    "cm_encounters_20240101.csv": {"rows": 2},
                    "cm_referrals_20240101.csv": {"rows": 0, "sha256": "0" * 64},
                },
            }
        ),
    )
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    problems = sorted(r.problem for r in report.rejected)
    assert len(problems) == 2
    assert "checksum does not match" in problems[0] and "manifest says it has 2 row(s), the file has 1" in problems[1]


def test_a_failure_mid_batch_rolls_back_every_file_in_it(small_city, tmp_path, monkeypatch):
    """A fault while writing (here: the disk or database failing on the third extract) leaves no trace."""
    calls = {"n": 0}
    real = loader._write_extract

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(loader, "_write_extract", failing)
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(OSError, match="disk full"):
        land(small_city["landing"], warehouse, TZ, progress=quiet)
    assert sql(warehouse, "SELECT count(*) FROM land.file_ledger")[0][0] == 0
    for name in CONTRACT.extracts:
        assert sql(warehouse, f"SELECT count(*) FROM raw.{name}")[0][0] == 0
    monkeypatch.setattr(loader, "_write_extract", real)
    land(small_city["landing"], warehouse, TZ, progress=quiet)  # and the next run lands everything
    assert table_digest(warehouse) == table_digest(small_city["warehouse"])


def test_parquet_drops_land_like_csv(small_city, tmp_path):
    from orchestration.demo.generate import generate
    from tests.conftest import SMALL

    generate(SMALL, tmp_path / "landing", tmp_path / "truth.json", fmt="parquet", progress=quiet)
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert not report.rejected and sum(r.rows_quarantined for r in report.landed) == 0
    assert table_digest(tmp_path / "w.duckdb") == table_digest(small_city["warehouse"])


def test_messages_never_quote_personal_data(tmp_path):
    """A people file without a header is rejected without quoting its first row, and an unparseable birth
    date is quarantined without copying the value into the reason (reasons reach logs and run records)."""
    cols = load_contract().extracts["cm_people"].column_names
    drop = tmp_path / "landing" / "2024-01-10"
    drop.mkdir(parents=True)
    person = ["P1", "Jane", "Doe", "1980-13-45", "555-0100", "12 Elm St", "", "", "2024-01-09T10:00:00-05:00"]
    (drop / "cm_people_20240110.csv").write_text(",".join(person) + "\n")
    (drop / "cm_people_20240110_b.csv").write_text(",".join(cols) + "\n" + ",".join(person) + "\n")
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", "America/New_York", progress=lambda m: None)
    (rejected,) = report.rejected
    assert "no header row" in rejected.problem
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (reason,) = con.execute("select reason from land.quarantine").fetchone()
    con.close()
    assert reason == "birth_date: unparseable date (value not shown: sensitive column)"
    for text in (rejected.problem, reason, report.summary()):
        assert not any(value in text for value in ("Jane", "Doe", "1980-13-45", "555-0100", "Elm"))


CALLS_HEADER = "call_id,incident_number,call_received_at,call_source\n"


def test_a_key_sent_twice_in_one_file_is_quarantined_naming_the_line_that_wins(tmp_path):
    write(
        tmp_path / "landing" / "2024-01-10" / "cad_calls_20240110.csv",
        CALLS_HEADER
        + "C1,I1,2024-01-09T10:00:00-05:00,911\nC1,I2,2024-01-09T10:05:00-05:00,911\n"
        + "C2,I1,2024-01-09T10:06:00-05:00,911\n",
    )
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert (report.landed[0].rows_read, report.landed[0].rows_loaded, report.landed[0].rows_quarantined) == (3, 2, 1)
    assert sql(tmp_path / "w.duckdb", "select line, reason from land.quarantine") == [
        (2, "call_id: duplicate key in this file: line 3 supersedes it")
    ]
    assert sql(tmp_path / "w.duckdb", "select incident_number from raw.cad_calls where call_id = 'C1'") == [("I2",)]


def test_equal_extract_times_are_decided_by_path_whatever_the_landing_order(tmp_path):
    """Two drops with the same extract date send the same key: the file whose path sorts last wins,
    whether it lands first or second."""
    row = "C1,{inc},2024-01-09T10:00:00-05:00,911\n"
    results = []
    for order in (["a", "b"], ["b", "a"]):
        root = tmp_path / "".join(order)
        for folder in order:  # land one folder at a time, in this order
            write(
                root / "landing" / folder / "2024-01-10" / "cad_calls_20240110.csv",
                CALLS_HEADER + row.format(inc=folder),
            )
            land(root / "landing", root / "w.duckdb", TZ, progress=quiet)
        results.append(sql(root / "w.duckdb", "select incident_number from raw.cad_calls"))
    assert results == [[("b",)], [("b",)]]


def test_a_manifest_dated_in_the_future_is_refused_once_and_its_files_wait(tmp_path):
    drop = tmp_path / "landing" / "2024-01-10"
    write(drop / "cad_calls_20240110.csv", CALLS_HEADER + "C1,I1,2024-01-09T10:00:00-05:00,911\n")
    write(drop / "cad_calls_20240110_2.csv", CALLS_HEADER + "C2,I1,2024-01-09T10:00:00-05:00,911\n")
    write(drop / "_manifest.json", '{"extracted_at": "2099-01-10T06:00:00+00:00"}')
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert not report.landed and len(report.rejected) == 1
    assert "extracted_at 2099-01-10T06:00:00+00:00 is in the future" in report.rejected[0].problem


def test_parquet_timestamps_of_any_unit_land(tmp_path):
    import pandas as pd

    drop = tmp_path / "landing" / "2024-01-10"
    drop.mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "call_id": ["C1", "C2"],
            "incident_number": ["I1", "I1"],
            "call_received_at": pd.to_datetime(["2024-01-09 10:00:00.123456789", "2024-01-09 11:00:00.000000000"]),
            "call_source": ["911", "911"],
        }
    )
    assert str(frame["call_received_at"].dtype) == "datetime64[ns]"  # pandas' default: nanoseconds, naive (local)
    frame.to_parquet(drop / "cad_calls_20240110.parquet")
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert report.landed[0].rows_quarantined == 0, sql(tmp_path / "w.duckdb", "select reason from land.quarantine")
    assert sql(
        tmp_path / "w.duckdb", "select strftime(call_received_at, '%H:%M:%S.%f') from raw.cad_calls order by 1"
    ) == [("15:00:00.123456",), ("16:00:00.000000",)]


def test_one_bad_file_or_manifest_is_rejected_alone_and_the_others_land(tmp_path, monkeypatch):
    """A manifest that is a JSON list, an extracted_at in epoch seconds, an unreadable file and a Parquet
    column that is not UTF-8 each reject only themselves, with one message naming them."""

    import pyarrow as pa
    import pyarrow.parquet as pq

    landing = tmp_path / "landing"
    good = write(
        landing / "2024-01-10" / "cad_calls_20240110.csv", CALLS_HEADER + "C1,I1,2024-01-09T10:00:00-05:00,911\n"
    )
    write(landing / "2024-01-10" / "_manifest.json", '["not", "an", "object"]')
    write(landing / "2024-01-11" / "cad_calls_20240111.csv", CALLS_HEADER + "C2,I1,2024-01-10T10:00:00-05:00,911\n")
    write(landing / "2024-01-11" / "_manifest.json", '{"extracted_at": 1704970800}')
    locked = write(
        landing / "2024-01-12" / "cad_calls_20240112.csv", CALLS_HEADER + "C3,I1,2024-01-11T10:00:00-05:00,911\n"
    )
    (landing / "2024-01-13").mkdir()
    pq.write_table(
        pa.table(
            {
                "call_id": pa.array([b"C4\xff"], type=pa.binary()),
                "incident_number": ["I1"],
                "call_received_at": ["2024-01-12T10:00:00-05:00"],
                "call_source": ["911"],
            }
        ),
        landing / "2024-01-13" / "cad_calls_20240113.parquet",
    )
    scan_file = loader.scan_file
    monkeypatch.setattr(
        loader,
        "scan_file",
        lambda path: (
            (_ for _ in ()).throw(PermissionError(13, "Permission denied")) if path == locked else scan_file(path)
        ),
    )  # as root, chmod cannot make a file unreadable

    report = land(landing, tmp_path / "w.duckdb", TZ, progress=quiet)
    problems = {str(r.path.relative_to(landing)): r.problem for r in report.rejected}
    assert (
        problems["2024-01-10/_manifest.json"]
        == "unreadable drop manifest: a manifest must be a JSON object, not a list"
    )
    assert (
        "extracted_at must be ISO 8601 text with a UTC offset, not 1704970800" in problems["2024-01-11/_manifest.json"]
    )
    assert problems["2024-01-12/cad_calls_20240112.csv"] == "unreadable file: Permission denied"
    assert problems["2024-01-13/cad_calls_20240113.parquet"].startswith("column 'call_id' cannot be read as text")
    # the good files land (a drop whose manifest is rejected lands by its folder's date, unchecked)
    assert sorted(r.path for r in report.landed) == [
        str(good.relative_to(landing)),
        "2024-01-11/cad_calls_20240111.csv",
    ]
    assert ("2024-01-12/cad_calls_20240112.csv",) in sql(tmp_path / "w.duckdb", "select path from land.rejected_files")


def test_a_resend_cut_right_after_a_delimiter_is_rejected_and_the_stored_row_kept(tmp_path):
    """Failure 4: a re-send cut just after the last delimiter has the right number of fields, so it
    landed and replaced a stored closed_at with NULL. No line end after the last row now means cut."""
    header = ",".join(CONTRACT.extracts["cad_incidents"].column_names)
    row = "I1,2024-01-09T08:00:00-05:00,911_dispatch,WELFARE CHECK,,,,,,,,,,"
    write(
        tmp_path / "landing" / "2024-01-10" / "cad_incidents_20240110.csv",
        f"{header}\n{row}2024-01-09T09:00:00-05:00\n",
    )
    cut = write(tmp_path / "landing" / "2024-01-11" / "cad_incidents_20240111.csv", f"{header}\n{row}")
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert [r.path for r in report.rejected] == [cut]
    assert "truncated: the last row (line 2) has no line end" in report.rejected[0].problem
    assert sql(tmp_path / "w.duckdb", "select closed_at::varchar from raw.cad_incidents") == [("2024-01-09 14:00:00",)]


def test_symlinks_are_followed_only_inside_the_landing_folder_and_skips_are_named(tmp_path):
    """Failure 7/9: a symlinked drop folder was silently skipped, and a symlink out of the landing folder
    was read. Inside: followed (a file reached twice lands once). Outside or broken: rejected by name."""
    landing = tmp_path / "landing"
    write(landing / "2024-01-10" / "cad_calls_20240110.csv", CALLS_HEADER + "C1,I1,2024-01-09T10:00:00-05:00,911\n")
    (landing / "latest").symlink_to(landing / "2024-01-10")  # the same drop again, by another name
    outside = write(
        tmp_path / "elsewhere" / "2024-01-11" / "cad_calls_20240111.csv",
        CALLS_HEADER + "C2,I2,2024-01-10T10:00:00-05:00,911\n",
    )
    (landing / "2024-01-11").symlink_to(outside.parent)  # a drop folder mounted from outside
    (landing / "2024-01-10" / "cad_calls_20240110_2.csv").symlink_to(outside)  # a file link out
    (landing / "2024-01-10" / "cad_calls_20240110_3.csv").symlink_to(tmp_path / "gone.csv")
    report = land(landing, tmp_path / "w.duckdb", TZ, progress=quiet)
    assert [r.path for r in report.landed] == ["2024-01-10/cad_calls_20240110.csv"]
    problems = {r.path.name: r.problem for r in report.rejected}
    assert set(problems) == {"2024-01-11", "cad_calls_20240110_2.csv", "cad_calls_20240110_3.csv"}
    assert problems["2024-01-11"].startswith("symlinked folder points outside the landing folder")
    assert problems["cad_calls_20240110_2.csv"].startswith("symlinked file points outside the landing folder")
    assert problems["cad_calls_20240110_3.csv"] == "broken symlink: it points to nothing"
    assert sql(tmp_path / "w.duckdb", "select call_id from raw.cad_calls") == [("C1",)]


def test_integers_are_digits_only_never_rounded_or_read_as_hex_or_exponent(tmp_path):
    """Failure 7: integers "3.7", "0x2", "1e0" loaded as 4, 2 and 1. Now each is quarantined by name."""
    header = ",".join(CONTRACT.extracts["cad_incidents"].column_names)
    rows = [
        f"I{n},2024-01-09T08:00:00-05:00,911_dispatch,WELFARE CHECK,,{priority},,,,,,,,"
        for n, priority in enumerate(["3.7", "0x2", "1e0", "2", "-1"])
    ]
    write(tmp_path / "landing" / "2024-01-10" / "cad_incidents_20240110.csv", header + "\n" + "\n".join(rows) + "\n")
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", TZ, progress=quiet)
    assert (report.landed[0].rows_loaded, report.landed[0].rows_quarantined) == (2, 3)
    assert sql(tmp_path / "w.duckdb", "select incident_number, priority from raw.cad_incidents order by 1") == [
        ("I3", 2),
        ("I4", -1),
    ]
    reasons = sql(tmp_path / "w.duckdb", "select line, reason from land.quarantine order by line")
    assert [line for line, _ in reasons] == [2, 3, 4] and all(r.startswith("priority:") for _, r in reasons)


@pytest.mark.parametrize("ragged", [False, True], ids=["all plain", "one with a field too many"])
def test_plain_files_parsed_together_keep_each_files_rows_lines_and_reasons(tmp_path, monkeypatch, ragged):
    """Day files at their plainest (the contract's header, no quote, no blank line) are parsed together, in one
    Arrow call (reader.read_together). Each must keep its own rows, line numbers and reasons, exactly as when
    every file is read alone; a row with a field too many in any of them sends them all back to be read alone."""
    from orchestration.land import loader

    day = tmp_path / "landing" / "2024-01-10"
    ok = "2024-01-09T10:00:00-05:00,911"
    write(day / "cad_calls_20240110.csv", CALLS_HEADER + f"C1,I1,{ok}\nC2,I2,not a time,911\nC3,I3,{ok}\n")
    write(day / "cad_calls_20240110_2.csv", CALLS_HEADER)  # a header alone
    write(day / "cad_calls_20240110_3.csv", CALLS_HEADER + f"C4,I4,{ok}\nC5,I5,2024-13-45T10:00:00-05:00,911\n")
    if ragged:
        write(day / "cad_calls_20240110_4.csv", CALLS_HEADER + f"C6,I6,{ok}\nC7,I7,{ok},extra\n")
    together = []
    read_together = loader.read_together
    monkeypatch.setattr(
        loader, "read_together", lambda scans, e: together.append(len(scans)) or read_together(scans, e)
    )
    report = land(tmp_path / "landing", tmp_path / "together.duckdb", TZ, progress=quiet)
    assert together == [4 if ragged else 3]
    monkeypatch.setattr(loader, "plain_rows", lambda *a: None)  # every file read alone, as before
    alone = land(tmp_path / "landing", tmp_path / "alone.duckdb", TZ, progress=quiet)

    def counts(r):
        return sorted((f.path, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in r.landed)

    assert counts(report) == counts(alone)
    assert [c[1:] for c in counts(report)] == [(3, 2, 1), (0, 0, 0), (2, 1, 1)] + ([(2, 1, 1)] if ragged else [])
    quarantine = "select path, line, column_name, reason, record from land.quarantine order by path, line"
    got = sql(tmp_path / "together.duckdb", quarantine)
    assert got == sql(tmp_path / "alone.duckdb", quarantine)
    assert [(p.split("/")[-1], line) for p, line, *_ in got] == [
        ("cad_calls_20240110.csv", 3),
        ("cad_calls_20240110_3.csv", 3),
    ] + ([("cad_calls_20240110_4.csv", 3)] if ragged else [])
    rows = "select * exclude (_landed_at) from raw.cad_calls order by all"
    assert sql(tmp_path / "together.duckdb", rows) == sql(tmp_path / "alone.duckdb", rows)


FAST_READER_CASES = {
    # name: (file body after the header, does the fast reader read it itself?)
    "line break inside a quoted value, CRLF line ends": (
        'C1,I1,"2024-01-01T10:00:00-05:00",911\r\nC2,"I\r\n2",2024-01-01T10:00:00-05:00,911\r\nC3,I3,x,911\r\n',
        True,
    ),
    "doubled quotes inside a quoted value": ('C1,"I ""one"", ok",x,911\nC2,I2,x,911\n', True),
    "closed quote followed by text": ('C1,"I1"x,x,911\n', False),
    "blank line between rows": ("C1,I1,x,911\n\nC2,I2,x,911\n", False),
    "carriage return alone inside a value": ('C1,"I\r1",x,911\n', False),
    "row with a field too many": ("C1,I1,x,911,extra\n", False),
    "last row without its line end": ("C1,I1,x,911", False),
}


@pytest.mark.parametrize("case", FAST_READER_CASES)
@pytest.mark.parametrize("one_block", [True, False], ids=["parsed from the scanned bytes", "read again from disk"])
def test_the_fast_reader_reads_what_the_careful_reader_reads_or_gives_way(tmp_path, monkeypatch, case, one_block):
    """The native reader must give the careful reader's rows and line numbers exactly, or hand the file
    over (NotExact): it is never allowed to read a file differently. A file within one scan block is
    parsed from the bytes the scan read; a larger one is read again from disk (here: blocks of 56 bytes,
    which hold the header and any one row)."""
    import pyarrow as pa

    from orchestration.land import reader
    from orchestration.land.reader import FileRejected, NotExact, read_carefully, read_fast, scan_file

    if not one_block:
        monkeypatch.setattr(reader, "SCAN_BLOCK", 56)
    body, fast_reads_it = FAST_READER_CASES[case]
    extract = CONTRACT.extracts["cad_calls"]
    path = tmp_path / "cad_calls_20240101.csv"
    path.write_bytes((CALLS_HEADER.replace("\n", "\r\n") if "CRLF" in case else CALLS_HEADER).encode() + body.encode())
    try:
        careful = read_carefully(path, extract)
    except FileRejected:
        careful = None
    scan = scan_file(path)
    assert (len(scan.head) == scan.size) == one_block
    try:
        fast = pa.concat_tables(list(read_fast(path, extract, scan)))
    except NotExact:
        fast = None
    assert (fast is not None) == fast_reads_it
    if fast is not None:
        assert fast.equals(careful), (fast.to_pylist(), careful.to_pylist())
