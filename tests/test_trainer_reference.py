"""Same seed, same numbers, on this machine: two runs of a case agree bit for bit, a resumed run agrees with a straight one, and the
trainer of this checkout agrees with the trainer at `REF_COMMIT` (the refactoring guard), both computed here, now.

Nothing is compared with numbers from another machine (see `trainer_reference.py` and the README's note on reproducibility)."""
import pytest
from trainer_reference import CASES, REF_COMMIT, RESUMED, run_in_subprocess

@pytest.fixture(scope='module')
def now(): return run_in_subprocess()

@pytest.fixture(scope='module')
def frozen():
    try: return run_in_subprocess(frozen=True)
    except LookupError as e: pytest.skip(f'{e} (a shallow clone or a source archive has no history: clone the repository to run the guard)')

def close(a, b):
    return a == b if not (isinstance(a, float) and isinstance(b, float)) else abs(a - b) <= 1e-6 * max(1.0, abs(b))

def same(run, ref):
    """Bit-identical training state (parameters, Adam's moments, baselines). Rows: every key the reference has, counts and
    rates exact; means within 1e-6 (window sums of per-update metrics are vectorised differently for another buffer width)."""
    state = lambda r: {k: v for k, v in r.items() if k in ('params', 'adam', 'baseline')}
    assert state(run) == state(ref)
    assert len(run['rows']) == len(ref['rows'])
    for r, s in zip(run['rows'], ref['rows']):
        bad = {k: (r.get(k), s[k]) for k in s if k not in r or not close(r[k], s[k])}
        assert not bad, (s['step'], s['seed'], bad)

@pytest.mark.parametrize('name', sorted(CASES))
def test_same_as_the_trainer_at_the_reference_commit(now, frozen, name):
    same(now[name], frozen[name])

def test_same_seed_twice_is_bit_identical(now):
    assert now['again'] == now['reinforce_2seeds']

def test_resumed_is_bit_identical_to_straight(now):
    same(now['resumed'], now[RESUMED[0]])
