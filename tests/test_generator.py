"""The demo generator: deterministic, structured like a real city, and its truth is internally consistent."""

import datetime as dt
import hashlib
import json

import pytest

from orchestration.demo.generate import generate
from orchestration.demo.simulation import DemoConfig
from orchestration.demo.truth import REASONS

TINY = DemoConfig(seed=3, start=dt.date(2024, 3, 8), days=4)  # spans the spring-forward night of 2024-03-10


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_gives_byte_identical_drops_and_truth(tmp_path):
    for run in ("a", "b"):
        generate(TINY, tmp_path / run / "landing", tmp_path / run / "truth.json", progress=lambda m: None)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_another_seed_gives_another_city(tmp_path):
    generate(TINY, tmp_path / "a" / "landing", tmp_path / "a" / "truth.json", progress=lambda m: None)
    other = DemoConfig(seed=4, start=TINY.start, days=TINY.days)
    generate(other, tmp_path / "b" / "landing", tmp_path / "b" / "truth.json", progress=lambda m: None)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "b")


def test_refuses_to_mix_with_an_existing_landing_folder(tmp_path):
    generate(TINY, tmp_path / "landing", tmp_path / "truth.json", progress=lambda m: None)
    with pytest.raises(FileExistsError, match="not empty"):
        generate(TINY, tmp_path / "landing", tmp_path / "truth.json", progress=lambda m: None)


def test_truth_adds_up(small_city):
    t = small_city["truth"]
    forgone = t["forgone"]
    assert sum(forgone["by_reason"].values()) == forgone["total"]
    assert sum(forgone["unconstrained_by_reason"].values()) == forgone["total"]
    assert t["served"]["served_eligible"] + forgone["total"] == t["eligibility"]["program_eligible"]
    assert sum(forgone["by_dow_hour"].values()) == forgone["total"] == sum(forgone["by_beat"].values())
    assert sum(t["volume"]["by_origin"].values()) == t["volume"]["incidents"]
    assert sum(t["volume"]["by_local_date"].values()) == t["volume"]["incidents"]
    assert sum(m["incidents"] for m in t["by_month"].values()) == t["volume"]["incidents"]
    assert set(forgone["by_reason"]) == set(REASONS)
    assert sum(t["outcomes"]["counts"].values()) == t["outcomes"]["linked_served_incidents"]


def test_demo_city_has_the_structure_the_metrics_need(small_city):
    """Every metric in METRICS.md has something real to measure, within published ranges."""
    t = small_city["truth"]
    incidents = t["volume"]["incidents"]
    assert 0.03 <= t["eligibility"]["program_eligible"] / incidents <= 0.15  # eligible share of CAD incidents
    assert t["volume"]["multi_call_incidents"] > 0 and t["volume"]["calls"] > incidents
    assert all(
        t["volume"]["by_origin"][o] > 0 for o in ("911_dispatch", "self_initiated", "agency_referral", "phone_resolved")
    )
    assert t["eligibility"]["calltype_eligible_not_triaged"] > 0
    reasons = t["forgone"]["by_reason"]
    assert all(reasons[r] > 0 for r in ("outside_hours", "outside_area", "no_unit_available", "unknown"))
    assert reasons["unknown"] / t["forgone"]["total"] < 0.15  # unknown kept small and measured
    assert 0.15 <= t["served"]["share_of_eligible_served"]["value"] <= 0.75
    assert 0 < t["backup"]["police_backup_requests"] / t["backup"]["in_person_encounters"] <= 0.02
    assert t["backup"]["served_911_with_concurrent_police"] > 0
    comp = t["comparative"]
    assert comp["served"]["arrests_per_100"] < comp["police_handled"]["arrests_per_100"] < 5
    assert 0 < t["follow_ups"]["served_with_follow_up_within_48h"] < t["follow_ups"]["served_with_follow_up"]
    assert t["referrals"]["served_with_referral"]["numerator"] > 0
    assert t["transports"]["served_with_transport"]["numerator"] > 0
    assert 0.05 <= t["outcomes"]["counts"]["unable_to_locate"] / t["outcomes"]["linked_served_incidents"] <= 0.5
    assert 0.9 <= t["encounters"]["link_rate"]["value"] < 1
    assert t["response_time_minutes"]["crt"]["excluded_no_arrival"] > 0
    pt = t["police_time"]
    assert 1.5 <= pt["avg_police_units_per_incident"] <= 2 and 0.5 <= pt["avg_police_hours_per_unit"] <= 1.0
    assert t["familiar_neighbors"]["thresholds"]["5"]["people"] > 0


def test_pilot_then_citywide_shows_in_the_data(small_city):
    months = small_city["truth"]["by_month"]
    # October 2023 is mostly pilot (weekdays, 20 beats); November is citywide, 7 days a week
    oct_, nov = months["2023-10"], months["2023-11"]
    assert nov["served_eligible"] / nov["program_eligible"] > oct_["served_eligible"] / oct_["program_eligible"] + 0.1


def test_fall_back_night_repeats_the_1am_hour_in_the_extracts(small_city):
    """On 2023-11-05 local 01:00-01:59 happens twice: the CAD export shows it with both offsets."""
    text = (small_city["landing"] / "2023-11-05" / "cad_incidents_20231105.csv").read_text(encoding="utf-8-sig")
    assert "2023-11-05T01:" in text
    assert any(f"2023-11-05T01:{m:02d}" in text and "-04:00" in text for m in range(60))
    first = {line.split(",")[1][-6:] for line in text.splitlines() if ",2023-11-05T01:" in line}
    assert first == {"-04:00", "-05:00"}


def test_truth_file_is_json_with_config(small_city):
    cfg = small_city["truth"]["config"]
    assert cfg["seed"] == 7 and cfg["start"] == "2023-10-15" and cfg["days"] == 30
    json.dumps(small_city["truth"])
