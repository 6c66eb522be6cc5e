"""Shared helpers for the tests outside notebooks. Long target runs are marked `slow` and skipped unless `--runslow`."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', help='also run the long target checks (minutes each)')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a long training run checking an issue target; skipped unless --runslow')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow'): return
    skip = pytest.mark.skip(reason='long run: use --runslow')
    for item in items:
        if 'slow' in item.keywords: item.add_marker(skip)

def wmil_train(*args, cwd=None, timeout=1800):
    "Run `wmil-train` in a fresh interpreter (exactly what the console script runs); return the CompletedProcess."
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    return subprocess.run([sys.executable, '-c', 'from wmil.cli import main; main()', *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)

def rows(log_dir):
    "The metrics rows of a run directory."
    return [json.loads(l) for l in (Path(log_dir)/'metrics.jsonl').read_text().splitlines() if l.strip()]

def last_row(log_dir, seed=None):
    rs = [r for r in rows(log_dir) if seed is None or r['seed'] == seed]
    return rs[-1]

def strip_timing(row):
    return {k: v for k, v in row.items() if not k.startswith(('perf/', 'time/'))}
