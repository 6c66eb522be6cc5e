"""Shared helpers for the tests outside notebooks. Long target runs are marked `slow` and skipped unless `--runslow`.

Every test is also marked by what it needs, from where it lives, so that a tier can be chosen with `-m`: `notebook` (a notebook
executed and its stored outputs checked), `browser` (JupyterLab in Chromium), `server` (a llama.cpp server or a Ray cluster).
Every test has a timeout (pytest-timeout): `DEFAULT_TIMEOUT` seconds unless it sets its own with `@pytest.mark.timeout`."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Under pytest-xdist (`-n auto`: a worker per core; .ci/run runs the notebooks so) each worker and what it starts (a notebook,
# `wmil-train`) computes on one thread, so N workers share N cores instead of fighting over them (set before anything imports torch).
if 'PYTEST_XDIST_WORKER' in os.environ: os.environ.setdefault('OMP_NUM_THREADS', '1')

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', help='also run the long target checks (minutes each)')

TIERS = {'notebook': 'a notebook executed and its stored outputs checked (tests/test_notebook_outputs.py)',
         'browser': 'JupyterLab driven in headless Chromium (tests/browser/)',
         'server': 'starts a llama.cpp server or a Ray cluster (tests/test_llm_parent.py, tests/test_sweep_ray.py)'}
DEFAULT_TIMEOUT = {'browser': 1500, 'notebook': 900}.get # seconds; any other test: 600

def tier(path:Path)->str|None:
    "The tier of a test module, from where it lives."
    if 'browser' in path.parts: return 'browser'
    return {'test_notebook_outputs.py': 'notebook', 'test_llm_parent.py': 'server', 'test_sweep_ray.py': 'server'}.get(path.name)

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a long training run checking an issue target; skipped unless --runslow')
    for name, what in TIERS.items(): config.addinivalue_line('markers', f'{name}: {what}')
    config.addinivalue_line('markers', "study: an experiment or analysis notebook's short version (the quick loop leaves them to the full suite)")

def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason='long run: use --runslow')
    for item in items:
        t = tier(Path(item.fspath))
        if t: item.add_marker(getattr(pytest.mark, t))
        if getattr(item, 'originalname', '') == 'test_short_version_runs': item.add_marker(pytest.mark.study)
        if item.get_closest_marker('timeout') is None: item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT(t, 600)))
        if 'slow' in item.keywords and not config.getoption('--runslow'): item.add_marker(skip)

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
