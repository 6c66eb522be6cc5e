"Every numbered notebook keeps its outputs, and they are current: re-executing it gives the same text (see nb_outputs.py); an output that was never stored fails too."
import subprocess, sys
import pytest
from conftest import ROOT
from nb_outputs import NUMBERED

@pytest.mark.parametrize('nb', NUMBERED, ids=lambda p: p.name)
def test_outputs_current(nb):
    out = subprocess.run([sys.executable, str(ROOT/'tests'/'nb_outputs.py'), 'check', str(nb)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, (out.stdout + out.stderr[-3000:] +
                                 f'\nIf the change is intended: python tests/nb_outputs.py write {nb.relative_to(ROOT)} && nbdev_clean')
