"The package's shape: imports point down only, the trainer stays small, exported cells stay readable, metrics are read by name."
import ast, io, json, re, tokenize
from conftest import ROOT

# floor of each module: a module may import only modules on lower floors (ARCHITECTURE.md's rooms)
FLOORS = {'rng': 1, 'tasks': 1, 'worlds': 1.5, 'model': 1, 'reinforce': 1, 'ppo': 1, 'stats': 1, 'figures': 1, 'optim': 1, 'logger': 1,
          'parent': 2, 'llm_parent': 2.5, 'env': 3, 'config': 3, 'curriculum': 4, 'budget': 4, 'planner': 3, 'checkpoint': 4, 'trainer': 5,
          'cli': 6, 'bench': 6, 'sweep': 5.5, 'runs': 6, 'probing': 6, 'dashboard': 7, 'paper': 7}
ROOMS = sorted(p.stem for p in (ROOT/'wmil'/'experiments').glob('*.py') if not p.stem.startswith('_')) # one per experiment, above paper
ACROSS = {'reanalysis'} # rooms one floor above the others: they read several experiments' rooms (never the reverse)

def wmil_imports(path)->set:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module.startswith('wmil.') or node.level):
            out.add(node.module.split('.')[-1])
        if isinstance(node, ast.Import): out |= {a.name.split('.')[1] for a in node.names if a.name.startswith('wmil.')}
    return out

def test_every_module_has_a_floor():
    mods = {p.stem for p in (ROOT/'wmil').glob('*.py') if not p.stem.startswith('_')}
    assert mods == set(FLOORS), f'modules without a floor or gone: {mods ^ set(FLOORS)}'

def test_imports_point_down():
    bad = [f'{m} imports {i}' for m in FLOORS for i in wmil_imports(ROOT/'wmil'/f'{m}.py') if FLOORS.get(i, 0) >= FLOORS[m]]
    assert not bad, bad

def test_experiment_rooms_stand_alone():
    """An experiment's room (wmil.experiments.*) may import the library, wmil.paper included, but no other room (a room in ACROSS, which reads
    several experiments, may import theirs); wmil.paper names no experiment (it finds the rooms' builders), so adding an experiment changes no
    other file of the library."""
    assert {'exp001', 'exp005s', 'exp007'} <= set(ROOMS) and ACROSS <= set(ROOMS)
    bad = [f'{r} imports {i}' for r in ROOMS for i in wmil_imports(ROOT/'wmil'/'experiments'/f'{r}.py')
           if i not in FLOORS and not (r in ACROSS and i in set(ROOMS) - ACROSS)]
    assert not bad, bad
    named = sorted(set(re.findall(r'\bexp\d{3}\w*', (ROOT/'wmil'/'paper.py').read_text(), re.I)))
    assert not named, f'wmil/paper.py names experiments: {named}'

def code_tokens(src:str)->int:
    "How much code `src` holds, however it is laid out: its tokens, comments and line breaks aside."
    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    return sum(t.type not in skip for t in tokenize.generate_tokens(io.StringIO(src).readline))

def test_trainer_is_small():
    "The loop holds only its hooks: bounded in tokens (4,580 when the bound was set), which packing lines cannot dodge, and in lines."
    src = (ROOT/'wmil'/'trainer.py').read_text()
    n, k = len(src.splitlines()), code_tokens(src)
    assert k < 4_800 and n < 360, f'wmil/trainer.py has {k:,} tokens in {n} lines; give a new capability its own module (the loop holds only its hooks)'

def test_no_line_over_160_characters():
    """Every line of the library, its notebooks' exported cells and the tests fits 160 characters (nbdev writes a module's first line from its
    notebook's one-line summary, prose, which is left as written)."""
    files = {p: p.read_text().splitlines()[1:] for p in (ROOT/'wmil').rglob('*.py')}
    files |= {p: p.read_text().splitlines() for p in (ROOT/'tests').glob('*.py')}
    for nb in sorted((ROOT/'nbs').rglob('*.ipynb')):
        files[nb] = [l for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| export')
                     for l in ''.join(c['source']).splitlines()]
    wide = [f'{p.relative_to(ROOT)}: {len(l)} characters: {l.strip()[:60]!r}' for p, ls in files.items() for l in ls if len(l) > 160]
    assert not wide, wide

def test_exported_cells_are_short():
    long = []
    for nb in sorted((ROOT/'nbs').rglob('*.ipynb')):
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            src = ''.join(c['source']).splitlines()
            if c['cell_type'] == 'code' and src and src[0].startswith('#| export') and len(src) - 1 > 40:
                long.append(f'{nb.relative_to(ROOT)} cell {i}: {len(src) - 1} lines')
    assert not long, long

def test_metrics_read_by_name():
    "Only wmil.logger maps metric names to positions in the per-update buffer."
    for p in (ROOT/'wmil').glob('*.py'):
        if p.stem in ('logger', '_modidx'): continue
        src = p.read_text()
        assert not re.search(r'METRICS\.index|metric_index|ring\.data\[|\.metrics\[', src), f'{p.name} reads the metrics buffer by position'

def test_experiment_notebooks_run_short_and_write_nothing_by_default():
    """Run All on an experiment or analysis notebook runs its short version and never writes into paper_drafts/: one visible switch (FULL =
    False, WRITE_PAPER = False) in its first code cells, no `#| slow` cell (Jupyter runs those too), and every cell that writes the paper's
    files guarded by both switches."""
    for nb in sorted((ROOT/'nbs').glob('[ae][nx]*/*.ipynb')):
        code = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
        switch = [i for i, s in enumerate(code) if re.search(r'^FULL = False\b', s, re.M) and re.search(r'^WRITE_PAPER = False\b', s, re.M)]
        assert switch and switch[0] <= 2, f'{nb.name}: no FULL = False / WRITE_PAPER = False switch among its first code cells'
        assert not any(s.startswith('#| slow') for s in code), f'{nb.name}: a `#| slow` cell (Run All in Jupyter runs it)'
        for s in code:
            if re.search(r'\b(build|save_probing)\(', s) and 'import' not in s.split('(')[0]:
                assert 'if FULL and WRITE_PAPER:' in s, f'{nb.name}: a cell writes into paper_drafts/ without both switches: {s[:80]!r}'
