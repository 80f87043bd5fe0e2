"""Benchmark: generate, land and `dbt build` one and ten city-years (wall time, peak memory per step).

    make bench                      # 1 and 10 city-years
    make bench ARGS="--years 1"     # just one

Each step runs in its own process so its peak resident memory is its own (for dbt, the dbt process,
where DuckDB runs). Targets: landing one city-year under 60 s and ten under 10 minutes, peak under
4 GB; dbt build one city-year under 60 s and ten under 5 minutes, peak under 6 GB.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

STEP = """
import json, resource, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
out = Path({out!r})
if {step!r} == "generate":
    from orchestration.demo.generate import generate
    from orchestration.demo.simulation import DemoConfig
    import shutil
    shutil.rmtree(out / "landing", ignore_errors=True)  # the benchmark's own scratch folder
    s = generate(DemoConfig(days={days}), out / "landing", out / "truth.json", progress=lambda m: None)
    extra = dict(files=s["files"], rows=s["rows"], incidents=s["incidents"])
elif {step!r} == "land":
    from orchestration.land.loader import land
    r = land(out / "landing", out / "warehouse.duckdb", "America/New_York", progress=lambda m: None)
    extra = dict(files=len(r.landed), skipped=len(r.skipped), rows=sum(x.rows_read for x in r.landed))
else:
    from orchestration.dbt import build_args, dbt_env, run_dbt
    from orchestration.settings import load_settings
    env = dbt_env(load_settings(data_dir=out, warehouse_path=out / "warehouse.duckdb"), ALT911_DEMO="true",
                  DBT_TARGET_PATH=str(out / "target"))
    r = run_dbt(build_args(), env=env)
    if r.returncode != 0:
        raise SystemExit(r.stdout[-3000:])
    extra = dict(nodes=r.stdout.count(" OK ") + r.stdout.count(" PASS "))
    print(json.dumps(dict(peak_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, **extra)))
    sys.exit(0)
print(json.dumps(dict(peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra)))
"""


def run_step(step: str, out: Path, days: int) -> dict:
    code = STEP.format(repo=str(REPO), out=str(out), step=step, days=days)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--years", type=int, nargs="+", default=[1, 10])
    p.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    p.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["generate", "land", "dbt"],
        help="steps to skip (e.g. --skip generate land to re-time dbt on data already landed)",
    )
    args = p.parse_args()

    results = []
    for years in args.years:
        out = args.out / f"{years}y"
        warehouse = out / "warehouse.duckdb"
        if warehouse.exists() and "land" not in args.skip:
            warehouse.unlink()
        row = dict(city_years=years)
        steps = [("generate", "generate"), ("land", "land"), ("land", "re-land (no change)"), ("dbt", "dbt build")]
        for step, label in steps:
            if step in args.skip:
                continue
            r = run_step(step, out, years * 365)
            row[label] = r
            print(
                f"{years:>3} city-year(s)  {label:<20} {r['seconds']:>7.1f} s  peak {r['peak_mb']:>7.0f} MB  "
                f"{r.get('files', 0):>7,} files  {r.get('rows', 0):>11,} rows  {r.get('nodes', '')}",
                flush=True,
            )
        results.append(row)
    report = dict(machine=dict(python=platform.python_version(), cpus=__import__("os").cpu_count()), results=results)
    dest = REPO / "bench" / "results"
    dest.mkdir(exist_ok=True)
    path = dest / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
