"""Benchmark: the main Dagster job end to end at one and ten city-years, as the hourly schedule meets it.

    make bench-main                        # 1 and 10 city-years
    .venv/bin/python bench/bench_main_job.py --years 10

For each size (demo drops are generated first if the folder is empty; generation is not part of the job),
each run in its own process, as Dagster's run launcher starts one per run, timed from the process start
(imports included) to its end:
- full:        a fresh warehouse, every drop but the newest day's (the build is a full one)
- no-op:       the same again with nothing new (landing only, everything after it skipped)
- one new day: the newest day's drop arrives (land it, incremental build, gates, publish)
then landing against its bare-DuckDB lower bound on all the drops (bench/bench_landing.py); last, one
1 GB file landed alone (a multi-year backfill sent as one file; `--big-file-gb 0` skips it).
Peak memory is each run's maximum resident set (its dbt subprocesses included).
`--repeat N` runs the one-new-day run N times, each from the same state (the warehouse, Dagster's history,
the serving copy and the quality results as the no-op run left them, restored from a copy), and landing
against its lower bound N times, alternating; it reports the median and every figure. A shared host's
speed can move by a third within the hour, and one run of each says little about a change of a few seconds.
Targets (issues 4 and 11): one city-year end to end under 3 minutes; the checks add under 20% to the
dbt build; at ten city-years a run with nothing new under 10 s, one new day under 30 s and the full
run no slower than before (193 s); landing at most 1.5x the lower bound's CPU; the 1 GB file under
2 GB of peak memory.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import bench_landing  # noqa: E402  (a sibling script)

CHILD = """
import json, os, resource, sys, time
started = time.monotonic()
sys.path.insert(0, {repo!r})
os.environ.update(ALT911_DATA_DIR={data!r}, ALT911_DEMO="true", ALT911_SETTLE_SECONDS="0")  # drops written just now
from orchestration.__main__ import failed_checks, run_job
from orchestration.settings import load_settings
result = run_job(load_settings(), "main_job")
wall = time.monotonic() - started
if not result.success:
    raise SystemExit("main job failed: " + "; ".join(failed_checks(result)))
import dagster as dg
spans = {{}}
for record in dg.DagsterInstance.get().all_logs(result.run_id):
    e = record.dagster_event
    if e is not None and e.step_key and e.event_type_value in ("STEP_START", "STEP_SUCCESS"):
        spans.setdefault(e.step_key, {{}})[e.event_type_value] = record.timestamp
def phase(step):
    if step.startswith("land_extract_drops"): return "landing"
    if step.startswith("dbt_"): return "dbt"
    if step.startswith("serving"): return "publish"
    return "checks"
out = {{"landing": 0.0, "dbt": 0.0, "checks": 0.0, "publish": 0.0}}
for step, s in spans.items():
    if "STEP_START" in s and "STEP_SUCCESS" in s:
        out[phase(step)] += s["STEP_SUCCESS"] - s["STEP_START"]
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
executed = sorted(k for k, s in spans.items() if "STEP_SUCCESS" in s)
print(json.dumps(dict(wall_seconds=wall, peak_mb=peak / 1024, executed=executed, **out)))
"""


def run_child(data: Path) -> dict:
    started = time.monotonic()
    result = bench_landing.run(CHILD.format(repo=str(REPO), data=str(data)))
    result["process_seconds"] = time.monotonic() - started  # interpreter start included
    return result


def newest_day(landing: Path) -> Path:
    """The newest drop folder holding CAD incidents (the demo's last folders carry only late updates)."""
    for folder in sorted((p for p in landing.iterdir() if p.is_dir()), reverse=True):
        incidents = next(folder.glob("cad_incidents_*"), None)
        if incidents is not None and incidents.stat().st_size > 200:
            return folder
    raise SystemExit(f"no drop folder with incidents under {landing}")


# What a run writes: the one-new-day repeats each start from a copy of these
RUN_STATE = ("warehouse.duckdb", "warehouse.duckdb.wal", "dagster_home", "serving", "quality")


def _copy_state(source: Path, dest: Path) -> None:
    """The run state under `source` to `dest`, replacing what `dest` held (symlinks copied as links: the
    serving folder points into its releases)."""
    for name in RUN_STATE:
        target = dest / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        if (source / name).is_dir():
            shutil.copytree(source / name, target, symlinks=True)
        elif (source / name).exists():
            shutil.copy2(source / name, target)


def median_run(runs: list[dict], key: str) -> dict:
    """The run with the median `key` (the lower middle one of an even number), with every run's figure."""
    ranked = sorted(runs, key=lambda r: r[key])
    return {**ranked[(len(ranked) - 1) // 2], "all": [r[key] for r in runs]}


def measure(years: int, out: Path, repeat: int = 1) -> dict:
    data = out / f"{years}y"
    prelude = (
        f"import json, sys\nsys.path.insert(0, {str(REPO)!r})\nfrom pathlib import Path\ndata = Path({str(data)!r})\n"
    )
    code = prelude + bench_landing.GENERATE.format(days=years * 365)  # the demo drops, once
    subprocess.run([sys.executable, "-c", code], check=True)
    landing, held = data / "landing", data / "held_back"
    if held.exists():  # an earlier bench stopped midway: its held-back day goes back first
        for folder in held.iterdir():
            shutil.move(str(folder), landing / folder.name)
    day = newest_day(landing)
    held.mkdir(exist_ok=True)
    shutil.move(str(day), held / day.name)
    try:
        for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
            (data / name).unlink(missing_ok=True)
        full = run_child(data)
        no_op = run_child(data)
        if no_op["executed"] != ["land_extract_drops"]:
            raise SystemExit(f"the run with nothing new did more than land: {no_op['executed']}")
    finally:
        shutil.move(str(held / day.name), landing / day.name)
        held.rmdir()
    snapshot = data / "bench_state"
    if repeat > 1:
        snapshot.mkdir(exist_ok=True)
        _copy_state(data, snapshot)
    one_days = []
    try:
        for n in range(repeat):
            if n:
                _copy_state(snapshot, data)
            one_days.append(run_child(data))
            if "serving__published_marts" not in one_days[-1]["executed"]:
                raise SystemExit(f"the run with one new day did not publish: {one_days[-1]['executed']}")
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    one_day = median_run(one_days, "process_seconds")
    # all the drops: landing against bare DuckDB
    landing_bench = median_run([bench_landing.measure(years, out) for _ in range(repeat)], "cpu_ratio")
    return {
        "city_years": years,
        "new_day": day.name,
        "full": full,
        "no_op": no_op,
        "one_new_day": one_day,
        "checks_share_of_dbt": full["checks"] / full["dbt"] if full["dbt"] else None,
        "landing_cpu_seconds": landing_bench["landing"]["cpu_seconds"],
        "landing_peak_mb": landing_bench["landing"]["peak_mb"],
        "lower_bound_cpu_seconds": landing_bench["lower_bound"]["cpu_seconds"],
        "lower_bound_peak_mb": landing_bench["lower_bound"]["peak_mb"],
        "landing_cpu_ratio": landing_bench["cpu_ratio"],
        "landing_cpu_ratios": landing_bench["all"],
    }


def every(values: list[float], form: str, unit: str) -> str:
    """' [median of N: a, b, c unit]' for repeated measurements (`form` formats each), nothing for one."""
    shown = ", ".join(format(x, form) for x in values)
    return f" [median of {len(values)}: {shown}{unit}]" if len(values) > 1 else ""


def line(name: str, r: dict) -> str:
    return (
        f"  {name:<12} {r['process_seconds']:6.1f} s end to end (landing {r['landing']:.1f}, dbt {r['dbt']:.1f}, "
        f"checks {r['checks']:.1f}, publish {r['publish']:.1f}); peak {r['peak_mb']:.0f} MB"
        + every(r.get("all", []), ".1f", " s")
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--years", type=int, nargs="+", default=[1, 10])
    p.add_argument("--big-file-gb", type=float, default=1.0, help="size of the one-file backfill (0: skip it)")
    p.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    p.add_argument("--repeat", type=int, default=1, help="one-new-day runs and landing comparisons (medians)")
    args = p.parse_args()
    if args.repeat < 1:
        p.error("--repeat must be 1 or more")
    rows = []
    for years in args.years:
        r = measure(years, args.out, args.repeat)
        rows.append(r)
        print(
            f"{years} city-year(s), the new day {r['new_day']}:\n"
            + line("full", r["full"])
            + f" (checks = {r['checks_share_of_dbt']:.0%} of dbt)\n"
            + line("no-op", r["no_op"])
            + "\n"
            + line("one new day", r["one_new_day"])
            + f"\n  landing      {r['landing_cpu_seconds']:.1f} s CPU ({r['landing_peak_mb']:.0f} MB peak) vs bare "
            f"DuckDB {r['lower_bound_cpu_seconds']:.1f} s CPU ({r['lower_bound_peak_mb']:.0f} MB peak) "
            f"= {r['landing_cpu_ratio']:.2f}x{every(r['landing_cpu_ratios'], '.2f', 'x')}",
            flush=True,
        )
    if args.big_file_gb:
        big = bench_landing.measure_big_file(args.big_file_gb, args.out)
        rows.append(big)
        print(bench_landing.big_file_line(big), flush=True)
    bench_landing.save_results(rows, "main-job")


if __name__ == "__main__":
    main()
