"""The numbered notebooks keep their outputs, so the prose and its evidence sit on one page; this keeps them current.

    python tests/nb_outputs.py write [NOTEBOOK ...]   # execute and store the outputs (then `nbdev_clean` tidies them)
    python tests/nb_outputs.py check [NOTEBOOK ...]   # execute and compare with the stored outputs; exit 1 on a difference
    python tests/nb_outputs.py write --slow NOTEBOOK  # an experiment notebook's full version: FULL and WRITE_PAPER on
                                                      # (WMIL_FULL=1, WMIL_WRITE_PAPER=1), `#| slow` cells too
    python tests/nb_outputs.py run NOTEBOOK ...       # execute only (the experiment and analysis notebooks: their stored
                                                      # outputs, often the full version, are not compared)

Notebooks run as `nbdev_test` runs them (cells flagged `#| slow` and the `nbdev_export()` cell are skipped), so this is the one
execution of each notebook in a test run: a cell that raises fails it, as in `nbdev_test`, naming the cell and the error.
What is compared: each code cell's standard output and the `text/plain` / `text/markdown` of its results and displays.
Tolerance: numbers may differ by 1e-3 relative (or 1e-3 absolute near zero), for float rounding across thread counts; all other
text must match exactly (temporary folders `/tmp/tmp...` aside). A cell marked `#| volatile` is compared by its shape only: the
same text with every number masked (the same rows, columns and words); `#| volatile: words` also lets the words change (a verdict
on a few seeds' learning), keeping the number of outputs and of lines in each. Volatile are timings and every number that comes
out of training: the same code gives other last bits on another CPU (the order in which a kernel sums), and a few hundred updates
turn them into other numbers in the third decimal (seen: 0.218 against 0.203 on two machines of one kind); a probe's accuracy near
chance moved by one sample of 64 after 40 updates.
Which numbers those are was found by running the check with other CPU kernels chosen (`ATEN_CPU_CAPABILITY=avx2
ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=COMPATIBLE`), the way another CPU would; exact results (counts, shapes, a deterministic rule's
judgements, a tested property's outcome) stay compared. Standard error (warnings, progress bars) is neither stored nor compared."""
import re, sys, os
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

ROOT = Path(__file__).resolve().parents[1]
NUMBERED = sorted((ROOT/'nbs').glob('[0-9][0-9]*.ipynb')) + [ROOT/'nbs'/'index.ipynb']
OTHERS = sorted((ROOT/'nbs').glob('*/*.ipynb')) # experiments/ and analysis/: executed in their short version, outputs not compared
SKIP_FLAGS = {'slow'}
TEXT = ('text/plain', 'text/markdown')
_NUM = re.compile(r'-?\d+(?:\.\d+)?(?:e[-+]?\d+)?')
_ADDR = re.compile(r' at 0x[0-9a-f]+')
_TMP = re.compile(r'/tmp/tmp\w+') # temporary folders are new on every run
_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

# cells that cannot carry the directive: the README shows the index notebook's code as it is
VOLATILE = {('index.ipynb', 0): 'numbers'} # (notebook, code cell) -> as `#| volatile`: success after 200 updates

def volatility(source:str, where:tuple=())->str|None:
    "None (compared), 'numbers' (`#| volatile`: numbers masked) or 'words' (`#| volatile: words`: numbers and words free)."
    if where in VOLATILE: return VOLATILE[where]
    for line in source.splitlines():
        if not line.startswith('#|'): return None
        m = re.match(r'#\|\s*volatile\b:?\s*(\w*)', line)
        if m: return 'words' if m.group(1) == 'words' else 'numbers'
    return None

def directives(source:str)->set:
    "The `#| name` directives at the top of a cell."
    out = set()
    for line in source.splitlines():
        if not line.startswith('#|'): break
        out.add(line[2:].strip().split(':')[0].split()[0] if line[2:].strip() else '')
    return out

def execute(path:Path, slow:bool=False):
    """Run a notebook as `nbdev_test` does (with `slow`, its full version: slow cells, and the FULL and WRITE_PAPER switches on); return it
    with fresh outputs (stderr dropped)."""
    nb = read_nb(path)
    if slow: os.environ['WMIL_FULL'] = os.environ['WMIL_WRITE_PAPER'] = '1' # read by the switch cell of an experiment or analysis notebook
    def skip(cell):
        return cell.cell_type != 'code' or 'nbdev_export(' in cell.source or bool(directives(cell.source) & (set() if slow else SKIP_FLAGS))
    os.environ['IN_TEST'] = '1'
    cwd = os.getcwd(); os.chdir(path.parent)
    try: CaptureShell(path).run_all(nb, exc_stop=True, preproc=skip)
    except Exception as e: raise CellError(path, nb, e) from None
    finally: os.chdir(cwd)
    for c in nb.cells:
        if c.cell_type != 'code': continue
        c['outputs'] = [o for o in c.get('outputs', []) if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
        for o in c['outputs']: # terminal control codes (progress bars clearing their line) are not text a reader sees
            if o.get('output_type') == 'stream': o['text'] = _ANSI.sub('', ''.join(o['text']))
        c['outputs'] = [o for o in c['outputs'] if o.get('output_type') != 'stream' or o['text'].strip()]
    return nb

class CellError(Exception):
    "A notebook cell raised: the message names the notebook, the cell (its number among code cells and first line) and the error."
    def __init__(self, path, nb, e):
        code = [c for c in nb.cells if c.cell_type == 'code']
        bad = next(((i, c) for i, c in enumerate(code) if any(o.get('output_type') == 'error' for o in c.get('outputs', []))), None)
        where = f"code cell {bad[0]} ({bad[1].source.splitlines()[0][:60]!r})" if bad and bad[1].source else 'a cell'
        super().__init__(f"{path.relative_to(ROOT)}: {where} raised {type(e).__name__}: {str(e).strip().splitlines()[-1][:300] if str(e).strip() else ''}")

def texts(cell)->list:
    "The comparable text outputs of a code cell."
    out = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream': out.append(''.join(o['text']))
        elif o.get('output_type') == 'error': out.append(f"error: {o.get('ename')}: {o.get('evalue')}")
        else:
            for k in TEXT:
                if k in o.get('data', {}): out.append(''.join(o['data'][k]))
    return [_TMP.sub('<tmp>', _ADDR.sub('', t)) for t in out]

def _close(a:str, b:str)->bool:
    x, y = float(a), float(b)
    return abs(x - y) <= 1e-3 * max(1.0, abs(x), abs(y))

def _lines(t:str)->int: return len(t.replace('\r', '').strip('\n').split('\n'))

def same(a:str, b:str, volatile:str|None=None)->bool:
    "Equal text with numbers within the tolerance; `volatile`: numbers free ('numbers'), or words too, as many lines ('words')."
    if volatile == 'words': return _lines(a) == _lines(b)
    mask = (lambda t: re.sub(r'[ \t]+', ' ', _NUM.sub('#', t))) if volatile else (lambda t: _NUM.sub('#', t)) # a table's column widths follow its numbers
    if mask(a) != mask(b): return False
    return volatile == 'numbers' or all(_close(x, y) for x, y in zip(_NUM.findall(a), _NUM.findall(b)))

def differences(stored, fresh, name:str='')->list:
    "One line per code cell whose text output changed."
    out = []
    code = lambda nb: [c for c in nb.cells if c.cell_type == 'code']
    for i, (s, f) in enumerate(zip(code(stored), code(fresh))):
        a, b, vol = texts(s), texts(f), volatility(f.source, (name, i))
        if len(a) != len(b) or not all(same(x, y, vol) for x, y in zip(a, b)):
            first = f.source.splitlines()[0] if f.source else ''
            out.append(f"code cell {i} ({first[:60]!r}): stored {('|'.join(a))[:300]!r}, now {('|'.join(b))[:300]!r}")
    return out

def main(argv):
    cmd, slow = argv[0], '--slow' in argv
    paths = [Path(n).resolve() for n in argv[1:] if n != '--slow'] or NUMBERED
    bad = 0
    for p in paths:
        try: fresh = execute(p, slow)
        except CellError as e:
            print(e); bad += 1; continue
        if cmd == 'run': print(f'{p.relative_to(ROOT)}: ran'); continue
        if cmd == 'write':
            write_nb(fresh, p); print(f'wrote outputs of {p.relative_to(ROOT)}')
        else:
            diff = differences(read_nb(p), fresh, p.name)
            for d in diff: print(f'{p.relative_to(ROOT)}: {d}')
            bad += bool(diff)
            if not diff: print(f'{p.relative_to(ROOT)}: outputs current')
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
