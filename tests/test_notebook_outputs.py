"""Every notebook executed once, as `nbdev_test` runs it (see nb_outputs.py): a cell that raises fails its notebook, naming the
cell and the error. The numbered notebooks keep their outputs, and they must be current (an output never stored fails too);
the experiment and analysis notebooks run their short version. No notebook may change `paper_drafts/` in its default mode."""
import hashlib, subprocess, sys
import pytest
from conftest import ROOT
from nb_outputs import NUMBERED, OTHERS

def paper_digest()->dict:
    return {p.relative_to(ROOT).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted((ROOT/'paper_drafts').rglob('*')) if p.is_file() and p.suffix not in ('.aux', '.log', '.fls', '.fdb_latexmk', '.out', '.pdf')}

def _run(cmd:str, nb):
    before = paper_digest()
    out = subprocess.run([sys.executable, str(ROOT/'tests'/'nb_outputs.py'), cmd, str(nb)], capture_output=True, text=True, cwd=ROOT)
    after = paper_digest()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return out, changed

@pytest.mark.parametrize('nb', NUMBERED, ids=lambda p: p.name)
def test_outputs_current(nb):
    out, changed = _run('check', nb)
    assert out.returncode == 0, (out.stdout + out.stderr[-3000:] +
                                 f'\nIf the change is intended: python tests/nb_outputs.py write {nb.relative_to(ROOT)} && nbdev_clean')
    assert not changed, f'{nb.name} changed paper_drafts/: {changed[:10]}'

@pytest.mark.parametrize('nb', OTHERS, ids=lambda p: p.relative_to(ROOT/'nbs').as_posix())
def test_short_version_runs(nb):
    out, changed = _run('run', nb)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert not changed, f'{nb.name} changed paper_drafts/ in its default (short) mode: {changed[:10]}'
