"""The paper draft: every figure and table it includes exists, was written by wmil, is current, and `wmil-paper` rebuilds it."""
import re, shutil, subprocess
from pathlib import Path
import pytest
from wmil.figures import mark_of
from wmil.paper import builders, build, check_draft, referenced

PAPER = Path(__file__).resolve().parent.parent/'paper_drafts'
DRAFT = PAPER/'draft_01.tex'

def test_draft_includes_every_builder_output():
    refs = set(referenced(DRAFT))
    wanted = {o for b in builders().values() for o in b.outputs if not o.endswith('.png')}
    assert wanted <= refs, f"the draft does not include {sorted(wanted - refs)}"

def test_every_include_exists_and_was_written_by_wmil():
    for ref in referenced(DRAFT):
        assert (PAPER/ref).exists(), f"{ref} is missing"
        assert mark_of(PAPER/ref) is not None, f"{ref} was not written by wmil"

def test_draft_is_current():
    assert check_draft(DRAFT) == []

def _numbers(text):
    return re.sub(r'-?\d+\.\d+', '#', text), [float(x) for x in re.findall(r'-?\d+\.\d+', text)]

@pytest.fixture(scope='module')
def rebuilt(tmp_path_factory):
    """The draft rebuilt once by `wmil-paper` from the stored results into a scratch folder, with its PDF where LaTeX is installed (the two
    tests below share it: one build of every figure, not two)."""
    out = tmp_path_factory.mktemp('paper')
    shutil.copy(DRAFT, out/'draft_01.tex')
    pdf = [] if shutil.which('latexmk') else ['--no-pdf']
    return out, subprocess.run(['wmil-paper', '--paper', str(out), '--results', str(PAPER/'results'), *pdf], capture_output=True, text=True)

def test_wmil_paper_rebuilds_every_include(rebuilt):
    out, r = rebuilt
    assert r.returncode == 0, r.stderr
    for ref in referenced(DRAFT):
        assert (out/ref).exists(), f"wmil-paper did not rebuild {ref}"
        if ref.endswith('.tex'): # same table, up to bootstrap noise from other library versions
            (a, xa), (b, xb) = _numbers((PAPER/ref).read_text()), _numbers((out/ref).read_text())
            assert a == b and len(xa) == len(xb) and all(abs(u - v) <= 0.02 for u, v in zip(xa, xb)), ref
    assert check_draft(out/'draft_01.tex', PAPER/'results') == []

def test_stale_and_hand_made_files_are_reported(tmp_path):
    shutil.copytree(PAPER/'results'/'probing', tmp_path/'results'/'probing')
    (tmp_path/'draft_01.tex').write_text('\\includegraphics{figures/probing.pdf}\n\\input{tables/probing.tex}\n\\input{tables/mine.tex}\n')
    build(tmp_path/'results', tmp_path, only=['probing'], pdf=False, log=lambda *a: None)
    (tmp_path/'tables'/'mine.tex').write_text('\\begin{tabular}{l}\nhand made\n\\end{tabular}\n')
    assert check_draft(tmp_path/'draft_01.tex') == ['tables/mine.tex: not written by wmil (no mark); build it with wmil-paper']
    with open(tmp_path/'results'/'probing'/'probes.csv', 'a') as f: f.write('hidden,symbol,trained,0.5,all,pattern_echo\n')
    problems = check_draft(tmp_path/'draft_01.tex')
    assert [p.split(':')[0] for p in problems] == ['figures/probing.pdf', 'tables/probing.tex', 'tables/mine.tex']
    assert all('stale' in p for p in problems[:2])

def test_pdf_step_is_skipped_without_latex(tmp_path, monkeypatch):
    shutil.copytree(PAPER/'results'/'probing', tmp_path/'results'/'probing')
    monkeypatch.setattr(shutil, 'which', lambda name: None)
    said = []
    build(tmp_path/'results', tmp_path, only=['probing'], log=said.append)
    assert any('latexmk not found: PDF step skipped' in s and 'apt install latexmk' in s for s in said), said

def test_wmil_paper_errors_are_one_line(tmp_path):
    r = subprocess.run(['wmil-paper', '--paper', str(tmp_path), '--no-pdf'], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith('wmil-paper: error: no stored results for exp001') and r.stderr.count('\n') == 1, r.stderr
    r = subprocess.run(['wmil-paper', '--only', 'exp9'], capture_output=True, text=True)
    assert r.returncode == 2 and 'invalid choice' in r.stderr

@pytest.mark.skipif(shutil.which('latexmk') is None, reason='LaTeX is not installed')
@pytest.mark.skipif(shutil.which('latexmk') is None, reason="needs LaTeX: Debian's latexmk and TeX Live (.ci/run installs them)")
def test_pdf_builds(rebuilt):
    "`wmil-paper` builds the PDF, and fails on an undefined reference or citation, a missing file or an overfull box (`wmil.paper.latex_problems`)."
    out, r = rebuilt
    assert r.returncode == 0, r.stderr
    assert (out/'draft_01.pdf').stat().st_size > 10_000

def test_verdicts_in_the_text_come_from_the_results():
    """Experiment 002's verdict sentences are macros that wmil-paper writes from the stored results (a stale one fails test_draft_is_current, a
    changed one test_wmil_paper_rebuilds_every_include); none is typed by hand."""
    text = DRAFT.read_text()
    used = set(re.findall(r'\\(expTwo[A-Za-z]+)', text))
    defined = {m for f in (PAPER/'tables').glob('*claims.tex') for m in re.findall(r'\\newcommand\{\\([A-Za-z]+)\}', f.read_text())}
    assert used and used <= defined, f'verdict macros the draft uses but no claims file defines: {used - defined}'
    assert all(f'tables/{f.name}' in referenced(DRAFT) for f in (PAPER/'tables').glob('*claims.tex'))
    section = text[text.index(r'\section{Experiment 002: does the world model help'):text.index(r'\section{What the baby represents}')]
    assert 'detectable' not in section and 'better' not in section, 'a verdict typed by hand in the Experiment 002 section'

def test_every_citation_and_reference_resolves():
    "Checked without LaTeX too (the PDF test needs it): every \\cite has a \\bibitem and every \\bibitem is cited; every \\ref has its \\label."
    body = '\n'.join(l.split('%')[0] for l in DRAFT.read_text().splitlines())
    cited = {k.strip() for m in re.findall(r'\\cite\{([^}]*)\}', body) for k in m.split(',')}
    items = set(re.findall(r'\\bibitem\{([^}]*)\}', body))
    assert cited == items, f"cited without an entry: {sorted(cited - items)}; entries never cited: {sorted(items - cited)}"
    refs, labels = set(re.findall(r'\\ref\{([^}]*)\}', body)), set(re.findall(r'\\label\{([^}]*)\}', body))
    assert refs <= labels, f"references to no label: {sorted(refs - labels)}"
