"""A JupyterLab server and a headless Chromium for the browser tests (imported by the test modules: a second `conftest.py` would
shadow `tests/conftest.py` for the tests that import it by name).

`lab` starts `jupyter lab` on 127.0.0.1 with a random port and token, serving a temporary copy of `nbs/` (with `settings.ini`, which the
notebooks' last `nbdev_export` cell needs, and `paper_drafts/`, which must come out unchanged), and stops it. `browser` is Debian's Chromium driven by Playwright through `executable_path`
(Playwright's own browser download cannot work on these machines). Both skip, saying what is missing, where Chromium or Playwright
is not installed; `.ci/run` installs them.
"""
import json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
from types import SimpleNamespace
import pytest
from lab_page import SHOTS, digest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
# Chromium on a closed network: no background connections, no sandbox (CI runs as root), a fresh profile per launch
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

def _free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='session')
def lab(tmp_path_factory):
    if CHROMIUM is None: pytest.skip('Chromium is not installed (apt-get install -y chromium; .ci/run installs it)')
    pytest.importorskip('playwright', reason='Playwright for Python is not installed (pip install -e ".[dev]")')
    pytest.importorskip('jupyterlab', reason='JupyterLab is not installed (pip install -e ".[dev]" or ".[lab]")')
    work = tmp_path_factory.mktemp('lab')
    shutil.copytree(ROOT/'nbs', work/'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', 'runs'))
    shutil.copy(ROOT/'settings.ini', work/'settings.ini')
    # the paper draft and its stored results (without checkpoints): a notebook that wrote into them would show in `paper_changes`
    shutil.copytree(ROOT/'paper_drafts', work/'paper_drafts', ignore=shutil.ignore_patterns('*.pt', 'tensorboard', '.*'))
    paper = digest(work/'paper_drafts')
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ('WMIL_FULL', 'WMIL_WRITE_PAPER')} # the notebooks' default, short mode
    env.update(OMP_NUM_THREADS='1', JUPYTER_CONFIG_DIR=str(work/'.jupyter'), JUPYTERLAB_SETTINGS_DIR=str(work/'.lab-settings'),
               JUPYTERLAB_WORKSPACES_DIR=str(work/'.lab-workspaces'))
    news = work/'.lab-settings'/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings'
    news.parent.mkdir(parents=True); news.write_text(json.dumps({'fetchNews': 'false'})) # no "get notified about news?" popup over the page
    log = open(work/'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--allow-root', '--ip=127.0.0.1', f'--port={port}',
                             '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work}',
                             '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(600):
            if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{(work/'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2) as r: json.load(r); break
            except OSError: time.sleep(0.2)
        else: raise RuntimeError(f"jupyter lab did not answer on {url} within 120 s:\n{(work/'lab.log').read_text()[-3000:]}")
        yield SimpleNamespace(url=url, token=token, root=work, log=work/'lab.log', paper=paper)
    finally:
        try: # every kernel a test started, also when the test failed before its own shut_down
            with urllib.request.urlopen(f'{url}/api/kernels?token={token}', timeout=10) as r: kernels = json.load(r)
            for k in kernels:
                urllib.request.urlopen(urllib.request.Request(f"{url}/api/kernels/{k['id']}?token={token}", method='DELETE'), timeout=30).close()
        except OSError: pass # the server is gone already: its kernels went with it
        proc.terminate()
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        log.close()

@pytest.fixture(scope='session')
def browser(lab):
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()
