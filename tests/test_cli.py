"""`wmil-train` from outside: files, metrics rows, resume, and one-line errors with nothing left behind."""
import shutil
from pathlib import Path
import pytest
from conftest import wmil_train, rows, last_row, strip_timing

REQUIRED = ['step', 'seed', 'charts/env_steps', 'charts/success_rate', 'charts/entropy', 'losses/policy', 'losses/world_model',
            'rewards/goal', 'rewards/pred', 'perf/steps_per_second', 'perf/env_steps_per_second', 'time/elapsed_s']

def test_console_script_installed():
    assert shutil.which('wmil-train'), 'pip install -e . should put wmil-train on PATH'

def test_short_run_files_and_rows(tmp_path):
    d = tmp_path/'run'
    p = wmil_train('--total-steps', 50, '--batch-size', 16, '--log-dir', d, '--quiet')
    assert p.returncode == 0, p.stderr
    assert {'config.yaml', 'metrics.jsonl', 'checkpoint.pt'} <= {x.name for x in d.iterdir()}
    rs = rows(d)
    assert [r['step'] for r in rs] == [1, 50]
    for r in rs: assert all(k in r for k in REQUIRED), sorted(set(REQUIRED) - set(r))
    assert rs[-1]['charts/env_steps'] == 50 * 16
    assert not list(d.glob('*.tmp'))

def test_resume_matches_straight_run(tmp_path):
    a, b = tmp_path/'straight', tmp_path/'resumed'
    common = ['--task', 'sequence_next', '--batch-size', 16, '--seed', 2, '--quiet', '--lr-schedule', 'constant'] # a run that will be extended
    assert wmil_train('--total-steps', 120, '--log-dir', a, *common).returncode == 0
    assert wmil_train('--total-steps', 60, '--log-dir', b, *common).returncode == 0
    p = wmil_train('--resume', b, '--total-steps', 120, '--quiet')
    assert p.returncode == 0, p.stderr
    assert strip_timing(last_row(b)) == strip_timing(last_row(a))
    assert [r['step'] for r in rows(b)] == [1, 60, 100, 120]

def test_extending_a_decaying_schedule_says_so(tmp_path):
    d = tmp_path/'cos'
    assert wmil_train('--total-steps', 20, '--log-dir', d, '--batch-size', 8, '--quiet').returncode == 0
    p = wmil_train('--resume', d, '--total-steps', 30, '--quiet')
    assert p.returncode == 0 and 'stretches the rest of the schedule' in p.stderr, p.stderr

def test_multi_seed_rows(tmp_path):
    d = tmp_path/'multi'
    assert wmil_train('--seeds', '0,3', '--total-steps', 20, '--batch-size', 8, '--log-dir', d, '--quiet').returncode == 0
    assert sorted({r['seed'] for r in rows(d)}) == [0, 3]

def _assert_clean_error(p, *fragments):
    assert p.returncode == 2, (p.returncode, p.stderr)
    err = p.stderr.strip()
    assert 'Traceback' not in p.stderr and len(err.splitlines()) == 1, p.stderr
    assert err.startswith('wmil-train: error:'), err
    for f in fragments: assert f in err, err

@pytest.mark.parametrize('args,fragments', [
    (['--task', 'nope'], ["invalid choice: 'nope'", 'pattern_echo', 'sequence_next', 'conditional']),
    (['--total-steps', '0'], ['total_steps must be a positive integer, got 0']),
    (['--total-steps', '-3'], ['total_steps must be a positive integer, got -3']),
    (['--batch-size', '0'], ['batch_size must be a positive integer, got 0']),
    (['--seeds', 'x-y'], ["invalid seed list 'x-y'"]),
])
def test_bad_flags(tmp_path, args, fragments):
    d = tmp_path/'run'
    _assert_clean_error(wmil_train(*args, '--log-dir', d, '--quiet'), *fragments)
    assert not d.exists()

def test_malformed_yaml_names_file(tmp_path):
    f = tmp_path/'broken.yaml'
    f.write_text('task: [pattern_echo\nbatch_size: 3\n')
    _assert_clean_error(wmil_train('--config', f, '--log-dir', tmp_path/'run'), f'config file {f} is not valid YAML')
    assert not (tmp_path/'run').exists()

def test_unknown_task_in_yaml(tmp_path):
    f = tmp_path/'c.yaml'
    f.write_text('task: juggling\n')
    _assert_clean_error(wmil_train('--config', f, '--log-dir', tmp_path/'run'), "unknown task 'juggling'", 'valid tasks: pattern_echo')

def test_missing_and_corrupt_checkpoint(tmp_path):
    _assert_clean_error(wmil_train('--resume', tmp_path/'nothing'), 'does not exist; nothing to resume')
    (tmp_path/'empty').mkdir()
    _assert_clean_error(wmil_train('--resume', tmp_path/'empty'), 'no checkpoint at')
    d = tmp_path/'run'
    assert wmil_train('--total-steps', 10, '--batch-size', 8, '--log-dir', d, '--quiet').returncode == 0
    before = (d/'metrics.jsonl').read_text()
    (d/'checkpoint.pt').write_bytes((d/'checkpoint.pt').read_bytes()[:200])
    _assert_clean_error(wmil_train('--resume', d, '--total-steps', 20), 'is corrupt or unreadable')
    assert (d/'metrics.jsonl').read_text() == before

def test_existing_run_is_not_overwritten(tmp_path):
    d = tmp_path/'run'
    assert wmil_train('--total-steps', 5, '--batch-size', 8, '--log-dir', d, '--quiet').returncode == 0
    _assert_clean_error(wmil_train('--total-steps', 5, '--log-dir', d), 'already holds a run', '--resume')

def test_resume_needs_more_steps(tmp_path):
    d = tmp_path/'run'
    assert wmil_train('--total-steps', 10, '--batch-size', 8, '--log-dir', d, '--quiet').returncode == 0
    _assert_clean_error(wmil_train('--resume', d, '--total-steps', 10), 'must exceed the 10 steps')

def test_invalid_action_to_env():
    import torch, gymnasium as gym, wmil
    from wmil.env import SymbolicEnv
    from wmil.tasks import PatternEcho
    env = SymbolicEnv(PatternEcho(), batch_size=3)
    with pytest.raises(ValueError, match=r'action 11 is outside the action space: valid actions are 0\.\.7'):
        env.step(torch.tensor([0, 11, 2]))
    g = gym.make('wmil/SequenceNext-v0'); g.reset(seed=0)
    with pytest.raises(ValueError, match='outside the action space'):
        g.step(-1)
