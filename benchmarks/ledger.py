#!/usr/bin/env python
"""What each performance mechanism buys: benchmarks/run.py with and without it, on the national data set.

For every mechanism of benchmarks/switches.py, the scenarios that measure it
run in turn with the mechanism (A) and without it (B), --rounds times, each
in a fresh process (A B A B …, so that a drifting machine hits both alike).
The gain on a figure is B/A for times and A/B for rates (above 1: the
mechanism helps). Written to benchmarks/ledger.json; the table is printed
for docs/ARCHITECTURE.md.

    .venv/bin/python benchmarks/ledger.py --out benchmarks/ledger.json
    .venv/bin/python benchmarks/ledger.py --only tallies token-sql --rounds 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from switches import MECHANISMS  # noqa: E402

# The figure each goal is judged on, and whether more is better.
FIGURES = {
    "targets-page/first uncached": ("median_ms", False),
    "targets-page/deep uncached": ("median_ms", False),
    "targets-page/first": ("median_ms", False),
    "programme-detail/district uncached": ("median_ms", False),
    "programme-detail/district": ("median_ms", False),
    "summary-national/by-province": ("median_ms", False),
    "admin-changelist/city-reviewer": ("queries", False),
    "import/100k": ("rows_per_s", True),
    "throughput/targets-page": ("requests_per_s", True),
    "throughput/304": ("requests_per_s", True),
}


def switch_env(switched_off, **extra):
    """The environment of a run with this mechanism switched off (None: everything on)."""
    env = {**os.environ, **extra}
    env.pop("BENCH_SWITCH_OFF", None)
    if switched_off:
        env["BENCH_SWITCH_OFF"] = switched_off
        if switched_off == "prepared-statements":
            env["DB_PREPARED_STATEMENTS"] = "false"
    return env


def run(scenarios, switched_off, options):
    env = switch_env(switched_off)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable, str(ROOT / "benchmarks" / "run.py"), "--only", *scenarios, "--out", out.name,
            "--reps", str(options.reps), "--import-rows", str(options.import_rows), "--import-reps", "2",
            "--wrk-seconds", str(options.wrk_seconds),
        ]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        return json.load(open(out.name))["results"]


def figures_of(results):
    found = {}
    for row in results:
        key = f"{row['scenario']}/{row['variant']}"
        if key in FIGURES and row.get(FIGURES[key][0]) is not None:
            found[key] = row[FIGURES[key][0]]
    return found


def same_answers(name, paths):
    """Refuse to measure a switch that changes what the service answers."""
    found = []
    for switched_off in (None, name):
        env = switch_env(switched_off, LOG_LEVEL="ERROR", API_THROTTLE_USER="100000000/minute")
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "switches.py"), out.name, *paths],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            found.append(Path(out.name).read_text())
    if found[0] != found[1]:
        raise SystemExit(f"{name}: switched off, the service answers differently; not measured")


def measure(name, options):
    _what, _where, _goals, scenarios = MECHANISMS[name]
    same_answers(name, options.paths)
    on, off = [], []
    for _ in range(options.rounds):
        on.append(figures_of(run(scenarios, None, options)))
        off.append(figures_of(run(scenarios, name, options)))
    rows = {}
    for key in on[0]:
        a = statistics.median(r[key] for r in on if key in r)
        b = statistics.median(r[key] for r in off if key in r)
        more_is_better = FIGURES[key][1]
        gain = (a / b if b else None) if more_is_better else (b / a if a else None)
        rows[key] = {"with": a, "without": b, "gain": None if gain is None else round(gain, 2)}
    return rows


def check_paths():
    """What every switch must answer alike: a targets page (first and deep, and CSV), a programme
    detail, the national summary."""
    env = {**os.environ, "LOG_LEVEL": "ERROR"}
    code = (
        "import os, sys; sys.path.insert(0, '.'); os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "import django; django.setup(); from tracking.models import Programme;"
        "print(Programme.objects.filter(year=2024).order_by('pk').values_list('pk', flat=True)[0])"
    )
    programme = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                               text=True).stdout.split()[-1]
    return [
        "/api/v1/targets/?year=2024&page_size=100", "/api/v1/targets/?year=2024&page_size=100&page=500",
        "/api/v1/targets/?year=2024&page_size=20&format=csv", f"/api/v1/programmes/{programme}/",
        "/api/v1/summary/?year=2024&group_by=region",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=list(MECHANISMS), help="these mechanisms only")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--out", help="write the ledger as JSON here (merged into what is there)")
    options = parser.parse_args(argv)
    options.paths = check_paths()
    ledger = json.load(open(options.out)) if options.out and Path(options.out).exists() else {}
    for name in options.only or MECHANISMS:
        print(f"== {name}", flush=True)
        ledger[name] = measure(name, options)
        for key, row in ledger[name].items():
            print(f"  {key}: with {row['with']}, without {row['without']}, gain ×{row['gain']}", flush=True)
        if options.out:
            Path(options.out).write_text(json.dumps(ledger, indent=2, ensure_ascii=False) + "\n")
    print()
    print("| mechanism | where | goal it serves | measured: with / without (gain) |")
    print("|---|---|---|---|")
    for name, rows in ledger.items():
        what, where, goals, _scenarios = MECHANISMS[name]
        measured = "; ".join(f"{key} {row['with']} / {row['without']} (×{row['gain']})" for key, row in rows.items())
        print(f"| **{name}**: {what} | `{where}` | {', '.join(goals)} | {measured} |")


if __name__ == "__main__":
    main()
