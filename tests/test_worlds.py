"""Issue 28's learning targets for the worlds with consequences, which take the better part of an hour on 2 cores: marked slow,
run with `pytest --runslow tests/test_worlds.py`. The rules themselves (solvable layouts, exact distances, exact reference
levels) are checked in nbs/01a_worlds.ipynb on every run."""
import pytest
from wmil.config import Config
from wmil.trainer import Trainer

# the default baby, trained with PPO over whole episodes of the smaller GridNav level (5x5, walls 0.2, 16 steps)
GRID_NAV = Config(task='grid_nav', num_actions=4, algo='ppo', rollout_len=16, gamma=0.99, time_limit=16, seeds=[0, 1, 2, 3, 4],
                  total_steps=600, log_every=50, eval_episodes=512, tensorboard=False)

@pytest.mark.slow
@pytest.mark.timeout(4 * 3600)
def test_default_baby_reaches_nine_tenths_of_optimal_on_grid_nav_and_its_world_model_is_exact():
    "Every seed of 0-4: greedy return at least 0.9 of optimal on held-out layouts, and world-model one-step accuracy at least 0.95 there."
    tr = Trainer(GRID_NAV, progress=False)
    tr.fit()
    last = {r['seed']: r for r in tr.rows[-5:]}
    ret = {s: round(r['eval/return_fraction'], 3) for s, r in last.items()}
    acc = {s: round(r['eval/wm_accuracy_1'], 3) for s, r in last.items()}
    assert all(v >= 0.9 for v in ret.values()), f'return as a fraction of optimal: {ret}'
    assert all(v >= 0.95 for v in acc.values()), f'world model one-step accuracy: {acc}'
