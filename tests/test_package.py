"""Packaging and documentation checks: README in step with the index notebook, CI runs the README's test command."""
import re, subprocess, sys
from pathlib import Path
from conftest import ROOT

def _readme_commands():
    return re.findall(r'```sh\n(.*?)\n```', (ROOT/'README.md').read_text(), re.S)

def test_readme_matches_index_notebook():
    out = subprocess.run([sys.executable, '-m', 'nbconvert', '--to', 'markdown', '--stdout', str(ROOT/'nbs'/'index.ipynb')],
                         capture_output=True, text=True, check=True).stdout
    assert out == (ROOT/'README.md').read_text(), \
        'README.md is stale: run `jupyter nbconvert --to markdown --stdout nbs/index.ipynb > README.md`'

def test_readme_gives_two_setup_commands_and_ci_runs_the_test_one():
    "The README's test command is `INSTALL && pytest -q tests`: .ci/run runs INSTALL verbatim, then pytest in phases whose markers select the same tests."
    cmds = _readme_commands()
    main, test = cmds[0], cmds[1]
    assert 'wmil-train' in main and 'pip install' in main
    install, _, run = test.rpartition(' && ')
    assert run == 'pytest -q tests', test
    ci = (ROOT/'.ci'/'run').read_text()
    assert install in ci, '.ci/run must run the README install command verbatim'
    phases = re.findall(r'^phase \w+ pytest_phase \w+ -m (.+)$', ci, re.M)
    assert sorted(phases) == sorted(['notebook', '"not notebook and not browser"', 'browser']), phases

def test_import_registers_gymnasium_envs():
    import gymnasium as gym, wmil
    for env_id in ['wmil/PatternEcho-v0', 'wmil/SequenceNext-v0', 'wmil/Conditional-v0']:
        assert env_id in gym.registry

def test_default_yaml_matches_config():
    from wmil.trainer import Config, load_config, DEFAULT_CONFIG
    assert load_config(DEFAULT_CONFIG) == Config()

def test_default_yaml_lists_every_field():
    import yaml
    from dataclasses import fields
    from wmil.trainer import Config, DEFAULT_CONFIG
    assert set(yaml.safe_load(DEFAULT_CONFIG.read_text())) == {f.name for f in fields(Config)}

def _run_cell_imports()->dict:
    "Every top-level package imported by a notebook cell that runs in the notebook (not exported into the library): name -> notebooks."
    import ast, json
    out = {}
    for nb in sorted((ROOT/'nbs').rglob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or src.lstrip().startswith('#| export'): continue
            tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
            for n in ast.walk(tree):
                names = [a.name for a in n.names] if isinstance(n, ast.Import) else [n.module] if isinstance(n, ast.ImportFrom) and n.level == 0 else []
                for m in names:
                    if m.split('.')[0] not in sys.stdlib_module_names | {'wmil'}: out.setdefault(m.split('.')[0], set()).add(nb.name)
    return out

def _closure(dist:str, extras:set)->set:
    "The canonical names of `dist` with `extras` and everything it requires, read from the installed metadata."
    import importlib.metadata as md
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    seen, todo = set(), [(dist, set(extras))]
    while todo:
        name, ex = todo.pop()
        if canonicalize_name(name) in seen: continue
        seen.add(canonicalize_name(name))
        try: reqs = md.requires(name) or []
        except md.PackageNotFoundError: continue
        for r in map(Requirement, reqs):
            if r.marker is None or any(r.marker.evaluate({'extra': e}) for e in ex or {''}): todo.append((r.name, set(r.extras)))
    return seen

def test_lab_extra_brings_what_the_notebooks_import():
    "`pip install -e .[lab]` is enough to Run All: every package a notebook's own cells import comes with wmil[lab]."
    import importlib.metadata as md
    from packaging.utils import canonicalize_name
    dists, have = md.packages_distributions(), _closure('wmil', {'lab'})
    missing = {m: sorted(nbs)[:3] for m, nbs in _run_cell_imports().items()
               if not any(canonicalize_name(d) in have for d in dists.get(m, [m]))}
    assert not missing, f'imported by notebook cells but not brought by wmil[lab] (settings.ini lab_requirements): {missing}'
