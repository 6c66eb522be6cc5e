"""The dashboards as a person meets them: JupyterLab in headless Chromium, every action a click or typing in the page.

Only what a browser can show is tested here (widgets render, buttons work, Run All in the default mode leaves
`paper_drafts/` unchanged); every notebook's cells and numbers are checked once, by tests/test_notebook_outputs.py. Waits poll
for a state of the page with a generous limit, so a loaded machine is slower, never failed.

Screenshots of each state go to tests/browser/screenshots/ (git-ignored) for a developer to look at."""
import re, time
from pathlib import Path
from lab_fixtures import lab, browser # noqa: F401 (pytest fixtures)
from lab_page import SHOTS, open_notebook, run_all, save, failed_cells, labelled, dashboard, shut_down, paper_changes

def _status(d)->str: return d.locator('.widget-html').first.inner_text()

def _wait_status(d, pattern:str, timeout:float):
    t0 = time.monotonic()
    while not re.search(pattern, _status(d)):
        if time.monotonic() - t0 > timeout:
            SHOTS.mkdir(exist_ok=True); d.page.screenshot(path=SHOTS/'status_timed_out.png')
            raise AssertionError(f"status {_status(d)!r} never matched {pattern!r} within {timeout} s")
        time.sleep(0.25)

def _run_all_then_dashboard(lab, browser, rel:str, button:str, shot:str):
    "Open `rel`, Run All, save it, check no cell failed; the dashboard (the widget with `button`) and its screenshot `shot`."
    page = open_notebook(browser, lab, rel)
    run_all(page, timeout=300)
    save(page, lab.root/rel)
    assert failed_cells(lab.root/rel) == []
    d = dashboard(page, button)
    d.screenshot(path=SHOTS/shot)
    return page, d

def test_ablation_dashboard(lab, browser):
    rel = 'nbs/analysis/ablation_dashboard.ipynb'
    page, d = _run_all_then_dashboard(lab, browser, rel, 'Export', 'ablation_1_after_run_all.png')

    # The toolbar's interrupt during a button-started run is not exercised here: in 1 of 4 fresh-clone CI runs (and in the
    # previous try's CI) the next Run after it hung with the kernel idle; the interrupt and exact resume are tested in
    # nbs/13_dashboard.ipynb (a real KeyboardInterrupt in the main thread). See issue 27's closing note.
    # an ablation of another field, set up in the widgets, runs and reports
    labelled(d, 'dropdown', 'task').select_option('pattern_echo')
    labelled(d, 'inline-hbox', 'seeds').fill('2'); labelled(d, 'inline-hbox', 'seeds').press('Enter')
    labelled(d, 'text', 'with').fill('')
    labelled(d, 'dropdown', 'vary').select_option('entropy_coef')
    labelled(d, 'text', 'values').fill('0; 0.05')
    labelled(d, 'inline-hbox', 'updates').fill('300'); labelled(d, 'inline-hbox', 'updates').press('Enter')
    d.locator('button.widget-button', has_text=re.compile('^Run$')).click()
    _wait_status(d, r'^pattern_echo: entropy_coef=0, entropy_coef=0\.05 \(charts/success_rate\)', 600)
    assert labelled(d, 'text', 'export as').input_value() == 'ablation_pattern_echo_entropy_coef' # the export name follows task and field
    out = d.locator('.widget-output')
    assert out.locator('img').first.is_visible(), 'no learning-curve figure in the dashboard'
    assert out.locator('img').count() == 1, 'the figure is shown more than once'
    table = out.locator('table').first.inner_text()
    assert re.search(r'\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]', table), f'no interval in the table: {table!r}'
    d.screenshot(path=SHOTS/'ablation_4_report.png')

    # another metric redraws; Export writes the figure and the table
    labelled(d, 'dropdown', 'metric').select_option('losses/world_model')
    _wait_status(d, r'\(losses/world_model\)$', 180)
    labelled(d, 'text', 'export as').fill('browser_test')
    d.locator('button.widget-button', has_text=re.compile('^Export$')).click()
    _wait_status(d, r'^wrote ', 180)
    written = [Path(p) for p in _status(d).removeprefix('wrote ').split(', ')]
    assert sorted(p.name for p in written) == ['browser_test.pdf', 'browser_test.png', 'browser_test.tex'] and all(p.exists() for p in written), written
    d.screenshot(path=SHOTS/'ablation_5_exported.png')
    assert paper_changes(lab) == [] # the short version exports into a scratch folder
    page.close(); shut_down(lab, rel)

def test_probing_dashboard(lab, browser):
    rel = 'nbs/analysis/probing.ipynb'
    page, d = _run_all_then_dashboard(lab, browser, rel, 'Load and probe', 'probing_1_after_run_all.png')
    runs = labelled(d, 'dropdown', 'run')
    runs.select_option(index=runs.locator('option').count() - 1) # the last run the notebook trained
    labelled(d, 'inline-hbox', 'seed').fill('1'); labelled(d, 'inline-hbox', 'seed').press('Enter')
    d.locator('button.widget-button', has_text=re.compile('^Load and probe$')).click()
    _wait_status(d, r'seed 1: \d+ variables probed', 300)
    src = lambda: d.evaluate("el => (el.querySelector('.widget-output img') || {}).src || ''")
    for label, value in (('variable', 'action'), ('layer', 'block1')):
        before, t0 = src(), time.monotonic()
        labelled(d, 'dropdown', label).select_option(value)
        while src() in (before, ''):
            assert time.monotonic() - t0 < 180, f'the figure was not redrawn after choosing {label} {value}'
            time.sleep(0.25)
    assert d.locator('.widget-output img').count() == 1, 'the figure is shown more than once'
    assert 'random init' in d.locator('.widget-output table').first.inner_text()
    d.screenshot(path=SHOTS/'probing_2_action_block1.png')
    assert paper_changes(lab) == []
    page.close(); shut_down(lab, rel)
