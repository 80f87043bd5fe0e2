"""Every real public export the tests use publishes through a city folder by configuration alone: the
shipped mapping, a CAD-only test city folder (tests/fixtures/cities/cadonly) with the export's time
zone, and the README's commands. The published incident count equals the count computed straight from
the CSV (the rows landing must quarantine, e.g. without a received time, computed the same way).
Eugene, with response times, is tests/test_city_eugene.py."""

from __future__ import annotations

import csv
import subprocess
import sys

import duckdb
import pytest

from orchestration.land.mapping import Mapping
from tests.conftest import FIXTURES, REPO, clean_env

CITY = REPO / "tests" / "fixtures" / "cities" / "cadonly"


def rows(name, header=True):
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh)) if header else list(csv.reader(fh))


EXPORTS = {  # mapping -> (export, incidents expected from the CSV)
    "seattle_spd_call_data": (
        "spd_call_data_east_charlie_dennyblaine_2010-2023.csv",
        lambda r: len({x["CAD Event Number"] for x in r}),
    ),
    "seattle_spd_911_incident_response": (
        "spd_911_incident_response_2016-03_sample.csv",
        lambda r: len({x["CAD Event Number"] for x in r if x["At Scene Time"].strip()}),
    ),
    "dallas_dpd_active_calls": (
        "dpd_active_calls_snapshot_2018-01-09.csv",
        lambda r: len({x["incident_number"] for x in r}),
    ),
    "sffd_calls_for_service": (
        "sffd_fire_department_calls_for_service_2016-12-31_to_2017-01-07.csv",
        lambda r: len({x["Incident Number"] for x in r}),
    ),
    "sapd_calls": (
        "sapd_calls_2022-11.csv",
        lambda r: len({x["IncidentNumber"] for x in r if x["IncidentNumber"].strip()}),
    ),
    "nopd_calls_for_service": ("nopd_calls_for_service_2011_sample_noheader.csv", len),
}


@pytest.mark.parametrize("mapping_name", sorted(EXPORTS))
def test_a_real_export_publishes_through_a_city_folder(mapping_name, tmp_path):
    export, expected = EXPORTS[mapping_name]
    env = clean_env(
        ALT911_CITY_DIR=str(CITY),
        ALT911_DATA_DIR=str(tmp_path),
        ALT911_PERSON_KEY="test-only-key",
        ALT911_CITY_TZ=Mapping.load(mapping_name).city_tz,
    )
    for args in (
        ["orchestration.land.mapping", mapping_name, str(FIXTURES / export), "--date", "2024-01-01"],
        ["orchestration", "land"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
        )
        assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / "serving" / "alt911_marts.duckdb"), read_only=True)
    published = con.execute("select incidents from marts.mart_eligibility where period_grain = 'all'").fetchone()[0]
    assert published == expected(rows(export, header=mapping_name != "nopd_calls_for_service"))
    assert con.execute("select count(*) from marts.mart_kpis where value_note like 'not recorded: %'").fetchone()[0] > 0
