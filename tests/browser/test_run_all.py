"""Every numbered notebook opens in JupyterLab and runs top to bottom with Run > Run All Cells, in its default mode, without an error
output, and leaves `paper_drafts/` as it was; the failures name the notebook, the cell and the error. Two notebooks run at a time
(one kernel per core)."""
import time
from pathlib import Path
from lab_fixtures import lab, browser # noqa: F401 (pytest fixtures)
from lab_page import SHOTS, open_notebook, menu, save, failed_cells, shut_down, paper_changes, _PROMPTS

ROOT = Path(__file__).resolve().parents[2]
NUMBERED = sorted(p.name for p in (ROOT/'nbs').glob('[0-9][0-9]*.ipynb'))

def _done(page)->bool:
    return page.evaluate(f"""() => {_PROMPTS}.some(t => /\\[\\d+\\]/.test(t)) && !{_PROMPTS}.some(t => t.includes('*')) &&
                                   document.querySelector('.jp-Notebook-ExecutionIndicator').dataset.status === 'idle'""")

def test_every_numbered_notebook_runs_in_the_browser(lab, browser, parallel:int=2, timeout:float=420):
    todo, running, failures, took = list(NUMBERED), {}, {}, {}
    while todo or running:
        while todo and len(running) < parallel:
            name = todo.pop(0)
            page = open_notebook(browser, lab, f'nbs/{name}')
            menu(page, 'Run', 'Run All Cells')
            running[name] = (page, time.time())
        time.sleep(1)
        for name, (page, t0) in list(running.items()):
            late = time.time() - t0 > timeout
            if not (late or (time.time() - t0 > 3 and _done(page))): continue
            if late: page.screenshot(path=SHOTS/f'run_all_{name}.png'); failures[name] = [f'still running after {timeout} s']
            else:
                save(page, lab.root/'nbs'/name)
                bad = failed_cells(lab.root/'nbs'/name)
                if bad: page.screenshot(path=SHOTS/f'run_all_{name}.png'); failures[name] = [f'cell {i} ({first!r}): {why}' for i, first, why in bad]
            page.close(); shut_down(lab, f'nbs/{name}'); del running[name]; took[name] = round(time.time() - t0)
    print('seconds per notebook:', took)
    assert paper_changes(lab) == [], 'Run All changed paper_drafts/'
    assert not failures, 'notebooks with errors in the browser:\n' + '\n'.join(f'{n}: ' + '; '.join(f) for n, f in failures.items())
