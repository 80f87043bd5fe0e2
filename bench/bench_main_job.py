"""Benchmark: the main Dagster job end to end at one and ten city-years, split into landing, dbt,
quality checks and publishing (from the run's own step events).

    make bench-main                        # 1 and 10 city-years
    .venv/bin/python bench/bench_main_job.py --years 1

Each size runs in its own process on a fresh warehouse (demo drops are generated first if the folder
is empty; generation is not part of the main job). After the full run, the same job runs again with
nothing new (the hourly schedule's usual case: landing only, the rest skipped). Then landing is measured
against its bare-DuckDB lower bound on the same drops (bench/bench_landing.py).
Targets: one city-year end to end under 3 minutes; the checks add under 20% to the dbt build time
(issue 4); a run with nothing new under 10 s at ten city-years; landing at most 1.5x the lower bound's
CPU (issue 11).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import bench_landing  # noqa: E402  (a sibling script)

CHILD = """
import json, os, resource, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
data = Path({data!r})
os.environ.update(ALT911_DATA_DIR=str(data), ALT911_DEMO="true", ALT911_SETTLE_SECONDS="0")  # drops written just now
{generate}
for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
    (data / name).unlink(missing_ok=True)
from orchestration.__main__ import failed_checks, run_job
from orchestration.settings import load_settings
started = time.monotonic()
result = run_job(load_settings(), "main_job")
wall = time.monotonic() - started
if not result.success:
    raise SystemExit("main job failed: " + "; ".join(failed_checks(result)))
import dagster as dg
spans = {{}}
for record in dg.DagsterInstance.get().all_logs(result.run_id):
    e = record.dagster_event
    if e is not None and e.step_key and e.event_type_value in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
        s = spans.setdefault(e.step_key, [None, None])
        s[0 if e.event_type_value == "STEP_START" else 1] = record.timestamp
def phase(step):
    if step.startswith("land_extract_drops"): return "landing"
    if step.startswith("dbt_"): return "dbt"
    if step.startswith("serving"): return "publish"
    return "checks"
out = {{"landing": 0.0, "dbt": 0.0, "checks": 0.0, "publish": 0.0}}
for step, (a, b) in spans.items():
    if a and b:
        out[phase(step)] += b - a
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
# the hourly run that finds nothing new: landing only, everything after it skipped
started = time.monotonic()
idle = run_job(load_settings(), "main_job")
idle_wall = time.monotonic() - started
idle_steps = sorted({{e.step_key for e in idle.all_events if e.event_type_value == "STEP_SUCCESS"}})
if not idle.success or idle_steps != ["land_extract_drops"]:
    raise SystemExit(f"the run with nothing new did more than land: {{idle_steps}}")
print(json.dumps(dict(wall_seconds=wall, peak_mb=peak / 1024, steps=len(spans), no_op_seconds=idle_wall, **out)))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--years", type=int, nargs="+", default=[1, 10])
    p.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    args = p.parse_args()
    rows = []
    for years in args.years:
        data = args.out / f"{years}y"
        code = CHILD.format(repo=str(REPO), data=str(data), generate=bench_landing.GENERATE.format(days=years * 365))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stdout[-2000:] + proc.stderr[-3000:])
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["city_years"] = years
        r["checks_share_of_dbt"] = r["checks"] / r["dbt"] if r["dbt"] else None
        landing = bench_landing.measure(years, args.out)  # same drops: landing against bare DuckDB
        r["landing_cpu_seconds"] = landing["landing"]["cpu_seconds"]
        r["landing_peak_mb"] = landing["landing"]["peak_mb"]
        r["lower_bound_cpu_seconds"] = landing["lower_bound"]["cpu_seconds"]
        r["landing_cpu_ratio"] = landing["cpu_ratio"]
        rows.append(r)
        print(
            f"{years:>3} city-year(s): end to end {r['wall_seconds']:6.1f} s "
            f"(landing {r['landing']:.1f}, dbt {r['dbt']:.1f}, "
            f"checks {r['checks']:.1f} = {r['checks_share_of_dbt']:.0%} of dbt, publish {r['publish']:.1f}); "
            f"peak {r['peak_mb']:.0f} MB; run with nothing new {r['no_op_seconds']:.1f} s\n"
            f"      landing {r['landing_cpu_seconds']:.1f} s CPU ({r['landing_peak_mb']:.0f} MB peak) vs bare DuckDB "
            f"{r['lower_bound_cpu_seconds']:.1f} s CPU = {r['landing_cpu_ratio']:.2f}x",
            flush=True,
        )
    bench_landing.save_results(rows, "main-job")


if __name__ == "__main__":
    main()
