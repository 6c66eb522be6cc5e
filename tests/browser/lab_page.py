"What a person does in JupyterLab, through the page: open a notebook, use the menus, run everything, save, read what the cells showed."
import itertools, json, re, time
from pathlib import Path

SHOTS = Path(__file__).parent/'screenshots' # git-ignored test artefacts

_WORKSPACES = (f'test{i}' for i in itertools.count())

def open_notebook(browser, lab, rel:str, timeout:float=120):
    "A new page with notebook `rel` (relative to the served folder) open and its kernel idle."
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    page.goto(f'{lab.url}/lab/workspaces/{next(_WORKSPACES)}/tree/{rel}?token={lab.token}&reset') # a fresh workspace: only this notebook open
    page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=timeout * 1000)
    dialog = page.locator('.jp-Dialog', has_text='Select Kernel')
    try: dialog.wait_for(state='visible', timeout=5_000) # a fresh JupyterLab may ask which kernel to start: the notebook's own
    except Exception: pass
    else: dialog.locator('button', has_text=re.compile('^Select$')).click()
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=timeout * 1000)
    return page

def menu(page, top:str, item:str):
    "Click menu `top`, then its item labelled `item`."
    page.click(f'.lm-MenuBar-itemLabel:text-is("{top}")')
    page.click(f'.lm-Menu-item:has(.lm-Menu-itemLabel:text-is("{item}"))')

_PROMPTS = "[...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')].map(e => e.textContent)"

def run_all(page, timeout:float):
    "Run > Run All Cells, then wait until no cell is running and the kernel is idle."
    menu(page, 'Run', 'Run All Cells')
    try:
        page.wait_for_function(f"() => {_PROMPTS}.some(t => /\\[(\\*|\\d+)\\]/.test(t))", timeout=60_000, polling=200)
        page.wait_for_function(f"""() => !{_PROMPTS}.some(t => t.includes('*')) &&
                                  document.querySelector('.jp-Notebook-ExecutionIndicator').dataset.status === 'idle'""",
                               timeout=timeout * 1000, polling=500)
    except Exception:
        SHOTS.mkdir(exist_ok=True); page.screenshot(path=SHOTS/'run_all_timed_out.png')
        raise

def save(page, path:Path, timeout:float=30):
    "File > Save Notebook, and wait until the file on disk is newer."
    before = path.stat().st_mtime_ns
    menu(page, 'File', 'Save Notebook')
    t0 = time.time()
    while path.stat().st_mtime_ns == before:
        if time.time() - t0 > timeout: raise TimeoutError(f'{path} was not saved within {timeout} s')
        time.sleep(0.2)
    time.sleep(0.5) # the server writes through a temporary file: let it finish

def failed_cells(path:Path)->list:
    "Each code cell of a saved notebook that shows an error or never ran: (cell number, first source line, what went wrong)."
    nb, out = json.loads(path.read_text()), []
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    for i, c in enumerate(code, 1):
        first = ''.join(c['source']).strip().splitlines()[0][:80] if ''.join(c['source']).strip() else ''
        err = [o for o in c.get('outputs', []) if o['output_type'] == 'error']
        if err: out.append((i, first, f"{err[0]['ename']}: {err[0]['evalue'][:300]}"))
        elif c.get('execution_count') is None and ''.join(c['source']).strip(): out.append((i, first, 'never ran'))
    return out

def labelled(scope, kind:str, label:str):
    "The input of the ipywidget of class `widget-KIND` labelled `label` inside `scope`."
    box = scope.locator(f'.widget-{kind}').filter(has=scope.page.locator('label.widget-label', has_text=re.compile(f'^{re.escape(label)}$')))
    return box.locator('select' if kind == 'dropdown' else 'input').first

def dashboard(page, button:str):
    "The dashboard that has a button `button`, rendered as a widget (a text repr such as 'VBox(children=...' fails here)."
    d = page.locator('.widget-vbox').filter(has=page.locator('button.widget-button', has_text=re.compile(f'^{re.escape(button)}$'))).first
    try: d.wait_for(state='visible', timeout=30_000)
    except Exception:
        text = page.locator('.jp-OutputArea-output').all_inner_texts()
        shown = next((t[:200] for t in text if 'VBox(children' in t), None)
        raise AssertionError(f"the dashboard did not render as a widget{': the page shows its text repr ' + repr(shown) if shown else ''}") from None
    return d

def digest(folder:Path)->dict:
    "Every file under `folder`: its path -> a hash of its bytes."
    import hashlib
    return {p.relative_to(folder).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*')) if p.is_file()}

def paper_changes(lab)->list:
    "Files of the served copy of `paper_drafts/` that were added, removed or changed since the server started."
    now, then = digest(lab.root/'paper_drafts'), lab.paper
    return sorted(k for k in now.keys() | then.keys() if now.get(k) != then.get(k))

def shut_down(lab, rel:str):
    "Stop the kernel of notebook `rel` through the server's REST API (cleanup after a test, so that idle kernels do not pile up)."
    import urllib.request
    with urllib.request.urlopen(f'{lab.url}/api/sessions?token={lab.token}') as r: sessions = json.load(r)
    for s in sessions:
        if s.get('path') == rel:
            urllib.request.urlopen(urllib.request.Request(f"{lab.url}/api/sessions/{s['id']}?token={lab.token}", method='DELETE')).close()
