"Pre-registered plans (paper_drafts/plans/): each names what a plan must, and an experiment's sweep file runs exactly the cells its plan lists."
import pytest, yaml
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
                         [('exp007.yaml', 'exp007a_sweep.yaml'), ('exp005s.yaml', 'exp005s_sweep.yaml'), ('exp002w.yaml', 'exp002w_sweep.yaml')])
def test_sweep_runs_its_plan(plan_file, sweep_file):
    plan = yaml.safe_load((PLANS/plan_file).read_text())
    sweep = load_sweep(ROOT/'nbs'/'experiments'/sweep_file)
    assert sweep.conditions == plan_conditions(plan) and sweep.seeds == plan['seeds'] and sweep.base == plan['base']
    cfgs = sweep.configs() # every cell is a valid config
    assert len(cfgs) == len(plan['settings']) * len(plan['arms'])
