"""Short runs whose metrics rows and final parameters must stay bit-identical across refactors of the trainer.

The reference is computed in the same test run, on the same machine, by the library as it was at `REF_COMMIT` (extracted
from git into a temporary folder), never read from numbers stored on another machine: the same code gives other last bits on
another CPU, and a few hundred updates turn them into other numbers. `python tests/trainer_reference.py run` prints this
checkout's digests; `python tests/trainer_reference.py run --frozen` prints those of the library at `REF_COMMIT`.

Only an intended change of behaviour may move `REF_COMMIT` (to the commit that makes the change), and its message must say so."""
import hashlib, json, os, subprocess, sys, tarfile, tempfile
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
# the last commit whose trainer behaviour the current one must reproduce bit for bit
REF_COMMIT = '5c315066f4bc8f30c75f56fc20df0e68a067e7c7'
# every config field is pinned, so a change of defaults does not move the reference
BASE = dict(task='pattern_echo', task_params={}, num_actions=8, time_limit=16, seeds=[0, 1], total_steps=30, batch_size=16,
            rollout_len=1, device='cpu', context_len=8, hidden_dim=64, n_layers=2, n_heads=4, ffn_dim=256, algo='reinforce',
            lr=0.001, lr_schedule='constant', lr_final=0.1, gamma=0.0, entropy_coef=0.01, world_model_coef=1.0, value_coef=0.5,
            baseline_decay=0.05, baseline='running', policy_steps='all', max_grad_norm=1.0, gae_lambda=0.95, clip_coef=0.2,
            ppo_epochs=4, ppo_minibatches=4, reward_weights={'goal': 1.0, 'pred': 0.0}, reward_scaling='fixed', curriculum=False,
            curriculum_param='', curriculum_levels=[], curriculum_threshold=0.9, curriculum_min_steps=500, curriculum_mix=0.0,
            log_every=10, checkpoint_every=10, tensorboard=False)
CASES = {
    'reinforce_2seeds': {},
    'reinforce_1seed': dict(seeds=[3], task='sequence_next'),
    'ppo_2seeds': dict(algo='ppo', rollout_len=4, gamma=0.9, ppo_epochs=2, ppo_minibatches=2, task='goal_ring', total_steps=12),
    'curriculum_adaptive': dict(task='delayed_recall', task_params={'delay': 1}, context_len=4, curriculum=True,
                                curriculum_levels=[0, 1, 2], curriculum_min_steps=10, curriculum_threshold=0.1, batch_size=64,
                                rollout_len=4, reward_weights={'goal': 1.0, 'pred': 0.1}, reward_scaling='adaptive', total_steps=60),
}
RESUMED = ('curriculum_adaptive', 30) # a case stopped after 30 updates and resumed: the same as running it straight through

def _digest(t:torch.Tensor)->str: return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()

def run_case(name:str, resume_at:int|None=None)->dict:
    "Train one case (optionally stopping and resuming at `resume_at`); rows without timings, and digests of the state."
    from wmil.trainer import Config, Trainer
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

def frozen_library(dest:Path, commit:str=REF_COMMIT)->Path:
    "The `wmil` package as it was at `commit`, extracted from git into `dest` (raises with git's message when the commit is not there)."
    out = subprocess.run(['git', 'archive', '--format=tar', commit, 'wmil'], cwd=ROOT, capture_output=True)
    if out.returncode: raise LookupError(f"git cannot give wmil/ at {commit[:12]}: {out.stderr.decode().strip()}")
    tar = dest/'wmil.tar'; tar.write_bytes(out.stdout)
    with tarfile.open(tar) as t: t.extractall(dest, filter='data')
    return dest

def run_all()->dict:
    "Every case, the resumed case and a second run of the first case, each in this process's library, with one thread."
    import wmil
    torch.set_num_threads(1)
    out = {name: run_case(name) for name in CASES}
    out['resumed'] = run_case(*RESUMED)
    out['again'] = run_case('reinforce_2seeds')
    out['library'] = str(Path(wmil.__file__).parent)
    return out

def run_in_subprocess(frozen:bool=False, timeout:float=600)->dict:
    "`run_all` in a fresh interpreter: this checkout's library, or (frozen) the one at REF_COMMIT."
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    with tempfile.TemporaryDirectory() as d:
        if frozen: env['PYTHONPATH'] = os.pathsep.join([str(frozen_library(Path(d))), env.get('PYTHONPATH', '')])
        out = subprocess.run([sys.executable, __file__, 'run'], capture_output=True, text=True, cwd=d, env=env, timeout=timeout)
        if out.returncode: raise RuntimeError(f"trainer_reference.py run{' (frozen)' if frozen else ''} failed:\n{out.stderr[-3000:]}")
        res = json.loads(out.stdout.splitlines()[-1])
        where = Path(d) if frozen else ROOT
        assert Path(res['library']).is_relative_to(where), f"the run imported wmil from {res['library']}, not from {where}"
        return res

if __name__ == '__main__':
    if sys.argv[1:] == ['run']: print(json.dumps(run_all()))
    elif sys.argv[1:] == ['run', '--frozen']: print(json.dumps(run_in_subprocess(frozen=True)))
    else: sys.exit('usage: python tests/trainer_reference.py run [--frozen]')
