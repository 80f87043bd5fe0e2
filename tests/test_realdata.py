"""Real public CAD exports map into the contract by configuration and land with nothing lost.

Expected counts are computed here straight from the source files with the csv module, independently
of the mapping and landing code."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest

from orchestration.land.loader import land
from orchestration.land.mapping import Mapping, MappingError, map_export
from tests.conftest import FIXTURES


def source_rows(name, header=True):
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh)) if header else list(csv.reader(fh))


def map_and_land(tmp_path, mapping_name, export):
    mapping = Mapping.load(mapping_name)
    drop = tmp_path / "landing" / "2024-01-01"
    map_export(mapping, FIXTURES / export, drop, dt.date(2024, 1, 1))
    report = land(tmp_path / "landing", tmp_path / "w.duckdb", mapping.city_tz, progress=lambda m: None)
    assert not report.rejected, report.summary()
    for r in report.landed:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    return report, con


def test_seattle_call_data(tmp_path):
    rows = source_rows("spd_call_data_east_charlie_dennyblaine_2010-2023.csv")  # has a BOM
    report, con = map_and_land(
        tmp_path, "seattle_spd_call_data", "spd_call_data_east_charlie_dennyblaine_2010-2023.csv"
    )
    assert con.execute("SELECT count(*) FROM raw.cad_incidents").fetchone()[0] == len(
        {r["CAD Event Number"] for r in rows}
    )
    onview = sum(r["Call Type"] == "ONVIEW" for r in rows)
    assert (
        con.execute("SELECT count(*) FROM raw.cad_incidents WHERE call_origin = 'self_initiated'").fetchone()[0]
        == onview
    )
    # "08/19/2011 09:16:27 PM" Pacific daylight time is 04:16:27 UTC the next day
    first = rows[0]
    got = con.execute(
        "SELECT received_at::VARCHAR, final_call_type FROM raw.cad_incidents WHERE incident_number = ?",
        [first["CAD Event Number"]],
    ).fetchone()
    assert first["Original Time Queued"] == "08/19/2011 09:16:27 PM"
    assert got == ("2011-08-20 04:16:27", first["Final Call Type"].lstrip("-"))


def test_seattle_911_incident_response_quarantines_rows_without_a_time(tmp_path):
    rows = source_rows("spd_911_incident_response_2016-03_sample.csv")
    report, con = map_and_land(
        tmp_path, "seattle_spd_911_incident_response", "spd_911_incident_response_2016-03_sample.csv"
    )
    no_time = sum(not r["At Scene Time"].strip() for r in rows)
    assert report.landed[0].rows_quarantined == no_time > 0
    reasons = con.execute("SELECT DISTINCT reason FROM land.quarantine").fetchall()
    assert reasons == [("received_at: missing required value",)]


def test_new_orleans_headerless_with_word_nulls(tmp_path):
    rows = source_rows("nopd_calls_for_service_2011_sample_noheader.csv", header=False)
    report, con = map_and_land(tmp_path, "nopd_calls_for_service", "nopd_calls_for_service_2011_sample_noheader.csv")
    assert con.execute("SELECT count(*) FROM raw.cad_incidents").fetchone()[0] == len(rows)
    assert report.landed[0].rows_quarantined == 0
    empty_closed = sum(r[9] == "empty" for r in rows)
    assert con.execute("SELECT count(*) FROM raw.cad_incidents WHERE closed_at IS NULL").fetchone()[0] == empty_closed
    assert con.execute("SELECT min(priority), max(priority) FROM raw.cad_incidents").fetchone()[0] >= 0


def test_dallas_one_row_per_unit_becomes_one_incident(tmp_path):
    rows = source_rows("dpd_active_calls_snapshot_2018-01-09.csv")
    _, con = map_and_land(tmp_path, "dallas_dpd_active_calls", "dpd_active_calls_snapshot_2018-01-09.csv")
    assert con.execute("SELECT count(*) FROM raw.cad_incidents").fetchone()[0] == len(
        {r["incident_number"] for r in rows}
    )


def test_san_francisco_fire_feeds_incidents_calls_and_units(tmp_path):
    rows = source_rows("sffd_fire_department_calls_for_service_2016-12-31_to_2017-01-07.csv")
    _, con = map_and_land(
        tmp_path, "sffd_calls_for_service", "sffd_fire_department_calls_for_service_2016-12-31_to_2017-01-07.csv"
    )
    count = lambda t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]  # noqa: E731
    assert count("cad_incidents") == len({r["Incident Number"] for r in rows})
    assert count("cad_calls") == len({r["Call Number"] for r in rows})
    out_of_order = con.execute("SELECT count(*) FROM land.quarantine").fetchone()[0]
    assert count("cad_unit_assignments") + out_of_order == len(rows)
    medic = sum(r["Unit Type"] in ("MEDIC", "PRIVATE", "RESCUE CAPTAIN") for r in rows)
    assert con.execute("SELECT count(*) FROM raw.cad_unit_assignments WHERE unit_type = 'ems'").fetchone()[0] <= medic


def test_san_antonio_epoch_times_and_missing_keys(tmp_path):
    rows = source_rows("sapd_calls_2022-11.csv")
    report, con = map_and_land(tmp_path, "sapd_calls", "sapd_calls_2022-11.csv")
    blank = sum(not r["IncidentNumber"].strip() for r in rows)
    assert report.landed[0].rows_quarantined == blank > 0
    assert con.execute("SELECT count(*) FROM raw.cad_incidents").fetchone()[0] == len(
        {r["IncidentNumber"] for r in rows if r["IncidentNumber"].strip()}
    )
    # 11/01/22 12:00:39 AM Central daylight time = epoch 1667278839000 = 05:00:39 UTC
    assert con.execute(
        "SELECT received_at::VARCHAR FROM raw.cad_incidents WHERE incident_number = 'SAPD-2022-1438214'"
    ).fetchone() == ("2022-11-01 05:00:39",)


def test_an_incomplete_mapping_is_refused(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("description: x\ncity_tz: UTC\noutputs:\n  - extract: cad_calls\n    columns: {call_id: a}\n")
    with pytest.raises(MappingError, match="columns missing"):
        Mapping.load(bad)
    with pytest.raises(MappingError, match="no mapping 'nope'"):
        Mapping.load("nope")
