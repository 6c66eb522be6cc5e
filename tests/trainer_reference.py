"""Short runs whose metrics rows and final parameters must stay bit-identical across refactors of the trainer.

`python tests/trainer_reference.py write` stores them in tests/data/trainer_reference.json (done once, from the code
before a refactor); `tests/test_trainer_reference.py` reruns them and compares. Only an intended change of behaviour
may rewrite the file, and its commit must say so."""
import hashlib, json, sys, tempfile
from pathlib import Path
import torch
from wmil.trainer import Config, Trainer

REF = Path(__file__).parent/'data'/'trainer_reference.json'
# every config field is pinned, so a change of defaults does not move the reference
BASE = dict(task='pattern_echo', task_params={}, num_actions=8, time_limit=16, seeds=[0, 1], total_steps=30, batch_size=16,
            rollout_len=1, device='cpu', context_len=8, hidden_dim=64, n_layers=2, n_heads=4, ffn_dim=256, algo='reinforce',
            lr=0.001, lr_schedule='constant', lr_final=0.1, gamma=0.0, entropy_coef=0.01, world_model_coef=1.0, value_coef=0.5, baseline_decay=0.05, baseline='running', policy_steps='all', max_grad_norm=1.0,
            gae_lambda=0.95, clip_coef=0.2, ppo_epochs=4, ppo_minibatches=4, reward_weights={'goal': 1.0, 'pred': 0.0},
            reward_scaling='fixed', curriculum=False, curriculum_param='', curriculum_levels=[], curriculum_threshold=0.9,
            curriculum_min_steps=500, curriculum_mix=0.0, log_every=10, checkpoint_every=10, tensorboard=False)
CASES = {
    'reinforce_2seeds': {},
    'reinforce_1seed': dict(seeds=[3], task='sequence_next'),
    'ppo_2seeds': dict(algo='ppo', rollout_len=4, gamma=0.9, ppo_epochs=2, ppo_minibatches=2, task='goal_ring', total_steps=12),
    'curriculum_adaptive': dict(task='delayed_recall', task_params={'delay': 1}, context_len=4, curriculum=True,
                                curriculum_levels=[0, 1, 2], curriculum_min_steps=10, curriculum_threshold=0.1, batch_size=64, rollout_len=4,
                                reward_weights={'goal': 1.0, 'pred': 0.1}, reward_scaling='adaptive', total_steps=60),
}

def _digest(t:torch.Tensor)->str: return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()

def run_case(name:str, resume_at:int|None=None)->dict:
    "Train one case (optionally stopping and resuming at `resume_at`); rows without timings, and digests of the state."
    cfg = Config(**{**BASE, **CASES[name]})
    with tempfile.TemporaryDirectory() as d:
        if resume_at:
            Trainer(cfg, log_dir=Path(d)/'r', progress=False).fit(resume_at)
            tr = Trainer.resume(Path(d)/'r', progress=False)
        else: tr = Trainer(cfg, log_dir=Path(d)/'r', progress=False)
        rows = tr.fit()
    rows = [{k: v for k, v in r.items() if not k.startswith(('perf/', 'time/'))} for r in rows]
    state = tr.opt.state_dict()['state'][0]
    return {'rows': rows, 'params': {k: _digest(v) for k, v in tr.params.items()},
            'adam': {k: _digest(v) for k, v in state.items()}, 'baseline': _digest(tr.baseline)}

def reference()->dict: return {name: run_case(name) for name in CASES}

if __name__ == '__main__' and sys.argv[1:] == ['write']:
    torch.set_num_threads(1)
    REF.write_text(json.dumps(reference(), indent=1, sort_keys=True) + '\n')
    print(f'wrote {REF}')
