"""gunicorn configuration for benchmarks/run.py: switch one mechanism off in every worker (BENCH_SWITCH_OFF)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def post_worker_init(worker):
    import switches

    switches.apply()
