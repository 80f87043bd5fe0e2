"""Benchmark: landing against its lower bound, bare DuckDB, on the same demo drops.

    .venv/bin/python bench/bench_landing.py --years 1 10

The lower bound reads every drop with DuckDB's native CSV reader, casts each column to the contract's
type (the same timestamp, date, code and integer rules landing applies) and keeps the latest version of
each key, and nothing else (its rows = rows kept): no checksum, ledger, quarantine, reasons or line
numbers. Landing does all of that; the ratio of the two CPU times is what landing's promises cost.
Each runs in its own process on a fresh warehouse; CPU is the user + system time of the work in that
process (DuckDB's threads included; interpreter start and imports excluded), peak is its maximum
resident memory. Target (issue 11): landing at most 1.5x the lower bound's CPU.

    .venv/bin/python bench/bench_landing.py --years --big-file-gb 1

lands one file of that size (unit assignments, a multi-year backfill sent as one file): its peak memory
must not grow with the file (target: a 1 GB file under 2 GB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Demo drops in <data>/landing, written once per size and reused. Ten demo years from 2023-07 run into
# the future, and landing refuses a manifest dated in the future: the drops are dated by their folder
# instead (files, rows and checksums are still checked against the manifest).
GENERATE = """
landing = data / "landing"
if not landing.exists() or not any(landing.iterdir()):
    from orchestration.demo.generate import generate
    from orchestration.demo.simulation import DemoConfig
    generate(DemoConfig(days={days}), landing, data / "demo_truth.json", progress=lambda m: None)
    for manifest in landing.glob("*/_manifest.json"):
        entry = json.loads(manifest.read_text())
        entry.pop("extracted_at", None)
        manifest.write_text(json.dumps(entry))
"""

PRELUDE = """
import json, os, resource, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
data = Path({data!r})
{generate}
warehouse = data / {warehouse!r}
for suffix in ("", ".wal"):
    Path(str(warehouse) + suffix).unlink(missing_ok=True)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
def report(rows, started):
    # CPU from the start of the work: the interpreter's start and imports are not landing
    print(json.dumps(dict(rows=rows, wall_seconds=time.monotonic() - started, cpu_seconds=cpu() - cpu_at_start,
                          peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

LANDING = """
from orchestration.land.loader import land
started, cpu_at_start = time.monotonic(), cpu()
r = land(landing, warehouse, "America/New_York", progress=lambda m: None)
report(sum(x.rows_read for x in r.landed), started)
"""

LOWER_BOUND = """
import csv
import duckdb
from orchestration.contract import load_contract
from orchestration.land.validate import normalized, q, typed
contract = load_contract()
started, cpu_at_start = time.monotonic(), cpu()
con = duckdb.connect(str(warehouse))
rows = 0
for extract in contract.extracts.values():
    files = sorted(str(p) for p in landing.rglob(extract.name + "_*.csv")
                   if contract.extract_for_filename(p.name) is extract)
    if not files:
        continue
    # every column as text, as sent (the demo's files of one extract share one header and the contract's
    # dialect, so DuckDB need not sniff each file); then the contract's cast; the drop date orders versions
    with open(files[0], encoding="utf-8-sig", newline="") as first:
        header = next(csv.reader(first))
    columns = {name or "_trailing_delimiter": "VARCHAR" for name in header}
    casts = ", ".join(
        f"{typed(c, contract, 'America/New_York', normalized(c, contract.null_tokens))} AS {q(c.name)}"
        for c in extract.columns)
    keys = ", ".join(q(k) for k in extract.key)
    day = "regexp_extract(filename, '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')"
    con.execute(f'''
        CREATE TABLE {q(extract.name)} AS
        SELECT * EXCLUDE (_extracted_at) FROM (
            SELECT {casts}, {day} AS _extracted_at
            FROM read_csv(?, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                          columns = ?, filename = true)
        )
        QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _extracted_at DESC) = 1''', [files, columns])
    rows += con.execute(f"SELECT count(*) FROM {q(extract.name)}").fetchone()[0]
con.close()
report(rows, started)
"""


# One unit-assignment file of the given size, written once: rows like the demo's, each with its own key.
BIG_FILE = """
landing = data / "landing" / "2024-01-01"
path = landing / "cad_unit_assignments_20240101.csv"
if not path.exists() or path.stat().st_size < {size}:
    landing.mkdir(parents=True, exist_ok=True)
    header = ("assignment_id,incident_number,unit_id,unit_type,dispatched_at,en_route_at,arrived_at,"
              "transported_at,cleared_at,unit_disposition")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\\n")
        written, n = 0, 0
        while written < {size}:
            rows = []
            for i in range(n, n + 100_000):
                day = 1 + i % 28
                rows.append(f"A{{i:010d}},24-{{i:08d}},CRT{{i % 7}},crt,2023-12-{{day:02d}}T10:00:00-05:00,"
                            f"2023-12-{{day:02d}}T10:02:00-05:00,2023-12-{{day:02d}}T10:11:00-05:00,,"
                            f"2023-12-{{day:02d}}T10:55:00-05:00,completed\\n")
            n += 100_000
            chunk = "".join(rows)
            f.write(chunk)
            written += len(chunk)
"""


def run(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(years: int, out: Path) -> dict:
    data = out / f"{years}y"
    common = dict(repo=str(REPO), data=str(data), generate=GENERATE.format(days=years * 365))
    lower = run(PRELUDE.format(**common, warehouse="lower_bound.duckdb") + LOWER_BOUND)
    landing = run(PRELUDE.format(**common, warehouse="landing_bench.duckdb") + LANDING)
    for name in ("lower_bound.duckdb", "landing_bench.duckdb"):
        (data / name).unlink(missing_ok=True)
    return dict(
        city_years=years, lower_bound=lower, landing=landing, cpu_ratio=landing["cpu_seconds"] / lower["cpu_seconds"]
    )


def save_results(rows: list[dict], name: str) -> None:
    """bench/results/<name>-<time>.json"""
    dest = REPO / "bench" / "results"
    dest.mkdir(exist_ok=True)
    path = dest / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(rows, indent=1))
    print(f"results: {path}")


def measure_big_file(gigabytes: float, out: Path) -> dict:
    data = out / "big-file"
    size = int(gigabytes * 1e9)
    common = dict(repo=str(REPO), data=str(data), generate=BIG_FILE.format(size=size))
    landing = run(PRELUDE.format(**common, warehouse="landing_bench.duckdb") + LANDING)
    (data / "landing_bench.duckdb").unlink(missing_ok=True)
    return dict(file_gb=size / 1e9, landing=landing)


def big_file_line(r: dict) -> str:
    la = r["landing"]
    return (
        f"one {r['file_gb']:.2f} GB file alone: {la['rows']:,} rows landed in {la['wall_seconds']:.1f} s "
        f"({la['cpu_seconds']:.1f} s CPU), peak {la['peak_mb']:.0f} MB"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--years", type=int, nargs="*", default=[1, 10])
    p.add_argument("--big-file-gb", type=float, help="also land one file of this size and report its peak memory")
    p.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    args = p.parse_args()
    rows = []
    if args.big_file_gb:
        r = measure_big_file(args.big_file_gb, args.out)
        rows.append(r)
        print(big_file_line(r), flush=True)
    for years in args.years:
        r = measure(years, args.out)
        rows.append(r)
        lb, la = r["lower_bound"], r["landing"]
        print(
            f"{years:>3} city-year(s): lower bound {lb['cpu_seconds']:.1f} s CPU ({lb['wall_seconds']:.1f} s wall, "
            f"{lb['peak_mb']:.0f} MB); landing {la['cpu_seconds']:.1f} s CPU ({la['wall_seconds']:.1f} s wall, "
            f"{la['peak_mb']:.0f} MB); ratio {r['cpu_ratio']:.2f}x",
            flush=True,
        )
    save_results(rows, "landing")


if __name__ == "__main__":
    main()
