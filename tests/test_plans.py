"Pre-registered plans (paper_drafts/plans/): each names what a plan must, and an experiment's sweep file runs exactly the cells its plan lists."
import subprocess, pytest, yaml
from conftest import ROOT
from wmil.sweep import load_sweep

PLANS = ROOT/'paper_drafts'/'plans'
NEEDED = ('question', 'base', 'settings', 'arms', 'seeds', 'scores', 'tests', 'hypothesis')

def plan_conditions(plan:dict)->dict:
    "Every (setting, arm) cell of a plan as the sweep's condition name -> config overrides."
    return {f"{s['name']}/{arm}": {**{k: v for k, v in s.items() if k != 'name'}, **over} for s in plan['settings'] for arm, over in plan['arms'].items()}

@pytest.mark.timeout(60)
@pytest.mark.parametrize('path', sorted(PLANS.glob('*.yaml')), ids=lambda p: p.name)
def test_plan_is_complete(path):
    plan = yaml.safe_load(path.read_text())
    assert not [k for k in NEEDED if k not in plan], f'{path.name} lacks {[k for k in NEEDED if k not in plan]}'
    assert 'smallest_effect_of_interest' in plan['tests'] and 'family' in plan['tests'], path.name

@pytest.mark.timeout(60)
@pytest.mark.parametrize('plan_file, sweep_file',
                         [('exp007.yaml', 'exp007a_sweep.yaml'), ('exp005s.yaml', 'exp005s_sweep.yaml'), ('exp002w.yaml', 'exp002w_sweep.yaml'),
                          ('exp004f.yaml', 'exp004f_sweep.yaml'), ('exp004g.yaml', 'exp004g_sweep.yaml'),
                          ('exp005f.yaml', 'exp005f_sweep.yaml')])
def test_sweep_runs_its_plan(plan_file, sweep_file):
    plan = yaml.safe_load((PLANS/plan_file).read_text())
    sweep = load_sweep(ROOT/'nbs'/'experiments'/sweep_file)
    assert sweep.conditions == plan_conditions(plan) and sweep.seeds == plan['seeds'] and sweep.base == plan['base']
    cfgs = sweep.configs() # every cell is a valid config
    assert len(cfgs) == len(plan['settings']) * len(plan['arms'])

def _git(*args): return subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True)

def _first_commit(path:str)->str|None:
    "The first commit that added a file at `path` (a file or a folder), or None."
    return (_git('log', '--reverse', '--format=%H', '--diff-filter=A', '--', path).stdout.split() or [None])[0]

@pytest.mark.timeout(60)
@pytest.mark.parametrize('path', sorted(PLANS.glob('*.yaml')), ids=lambda p: p.name)
def test_plan_was_committed_before_its_results(path):
    """A plan is pre-registered unless it says otherwise (`preregistered: false`, and its header says it was written after the runs); a
    pre-registered plan's first commit comes before, and is an ancestor of, the first commit of any file under its results folder."""
    plan = yaml.safe_load(path.read_text())
    if plan.get('preregistered', True) is False:
        assert 'NOT pre-registered' in path.read_text().split('\n\n')[0], f'{path.name}: a plan written after its runs says so in its header'
        return
    if _git('rev-parse', '--is-shallow-repository').stdout.strip() != 'false': pytest.skip("needs the repository's full history")
    plan_c, res_c = _first_commit(path.relative_to(ROOT).as_posix()), _first_commit(f"paper_drafts/results/{plan['experiment']}")
    if res_c is None: return # no result committed yet
    assert plan_c, f'{path.name} is not committed, but results of {plan["experiment"]} are ({res_c[:8]})'
    before = plan_c != res_c and _git('merge-base', '--is-ancestor', plan_c, res_c).returncode == 0
    assert before, f'{path.name} (first committed in {plan_c[:8]}) does not come before the first results of {plan["experiment"]} ({res_c[:8]})'
