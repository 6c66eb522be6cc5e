"""The LLM parent against a real llama.cpp server (llama-cpp-python[server], started here on 127.0.0.1 with the bundled
SmolLM2 GGUF file and stopped at the end), and its failures at the command line: one line each, nothing half-written."""
import json, os, signal, socket, sqlite3, subprocess, sys, threading, time
from pathlib import Path
import pytest
from conftest import wmil_train, rows, last_row, ROOT

if os.environ.get('CI'): import transformers, gguf, llama_cpp.server # CI installs the extras: a missing one fails here, it is not skipped
pytest.importorskip('transformers', reason='needs the [llm] extra: pip install -e ".[llm]"')
from wmil.llm_parent import *
from wmil.llm_parent import _parse_json_answer
from wmil.tasks import make_task

KEY = 'wmil-test-key-9f3a7c1e' # the server's API key: given to the runs through the environment only

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    "A llama.cpp server (llama-cpp-python) on 127.0.0.1 serving the bundled model, with an API key; stopped after the module."
    pytest.importorskip('llama_cpp.server', reason='needs the [llm-server] extra: pip install -e ".[llm-server]"')
    port, log = free_port(), tmp_path_factory.mktemp('server')/'server.log'
    proc = subprocess.Popen([sys.executable, '-m', 'llama_cpp.server', '--model', str(bundled_model()), '--host', '127.0.0.1',
                             '--port', str(port), '--api_key', KEY, '--n_ctx', '1024'], stdout=subprocess.DEVNULL, stderr=log.open('w'))
    url = f'http://127.0.0.1:{port}/v1'
    try:
        for _ in range(240):
            if proc.poll() is not None: pytest.fail(f'llama.cpp server exited: {log.read_text()[-2000:]}')
            try:
                with socket.create_connection(('127.0.0.1', port), timeout=1): break
            except OSError: time.sleep(0.5)
        os.environ['WMIL_LLM_API_KEY'] = KEY
        OpenAILM(base_url=url, retries=5).logodds(['Q: is s3 the same as s3? A:'], {'yes': ' yes', 'no': ' no'}) # waits until the model is loaded
        yield url
    finally:
        os.environ.pop('WMIL_LLM_API_KEY', None)
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

def env_with(**kw): return {**os.environ, 'PYTHONWARNINGS': 'ignore', **kw}

def train(args, env, timeout=600):
    return subprocess.run([sys.executable, '-c', 'from wmil.cli import main; main()', *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=timeout)

def test_openai_backend_reads_logprobs_and_json(server, tmp_path):
    task = make_task('pattern_echo')
    for variant in ('four_shot', 'match_last_hint'): # a plain completion and a chat message
        judge = Judge(task, load_template('pattern_echo', variant), OpenAILM(base_url=server), JudgementCache(tmp_path/'c.sqlite'))
        first = judge([(3, 3), (3, 5), (1, 1)])
        assert all(abs(v) < 100 for v in first) and len(set(first)) > 1, first
        again = Judge(task, judge.tpl, OpenAILM(base_url=server), None)([(3, 3), (3, 5), (1, 1)]) # no cache: the server again
        assert again == pytest.approx(first, abs=1e-3) # temperature 0: the same prompt gets the same answer
    lo = OpenAILM(base_url=server, answer='json')
    assert set(lo.logodds(['Is s3 the same as s3?'], {'yes': 'yes', 'no': 'no'})) <= {HARD_LOGODDS, -HARD_LOGODDS}

def test_unparseable_free_text_is_refused(server):
    "The real server's free-text reply (no JSON constraint) fails strict validation with one clear line."
    r = OpenAILM(base_url=server)._post('chat/completions', {'model': 'default', 'messages': [{'role': 'user', 'content': 'Is s3 the same as s3?'}],
                                                             'max_tokens': 4, 'temperature': 0})
    text = r['choices'][0]['message']['content']
    with pytest.raises(LLMError, match='unparseable answer from the LLM') as e: _parse_json_answer(text)
    assert '\n' not in str(e.value)
    with pytest.raises(LLMError, match="unparseable answer from the LLM: neither ' yes' nor ' no' among its top tokens") as e:
        OpenAILM(base_url=server).logodds(['The cat sat on'], {'yes': ' yes', 'no': ' no'}) # a prompt no yes/no follows

def test_train_with_server_parent_never_writes_the_key(server, tmp_path):
    d, cache = tmp_path/'run', tmp_path/'cache.sqlite'
    r = train(['--parent', 'llm', '--llm-backend', 'openai', '--llm-base-url', server, '--llm-cache', cache, '--total-steps', 30,
               '--batch-size', 16, '--log-dir', d, '--quiet'], env_with(WMIL_LLM_API_KEY=KEY))
    assert r.returncode == 0, r.stderr[-3000:]
    row = last_row(d)
    assert row['parent/queries'] == 30 * 16 and row['parent/model_calls'] > 0 and row['parent/fallbacks'] == 0
    assert row['parent/queries'] - row['parent/cache_hits'] >= row['parent/model_calls'] # a prompt asked once may serve several episodes of its step
    leaked = [p for p in [*d.rglob('*'), *tmp_path.glob('cache.sqlite*')] if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not leaked and KEY not in r.stdout + r.stderr, leaked

def test_grading_budget_asks_the_server_within_budget(server, tmp_path):
    "On a grading budget the LLM parent is asked about the chosen steps only: its queries equal the grading calls, which equal the budget."
    d = tmp_path/'run'
    r = train(['--parent', 'llm', '--llm-backend', 'openai', '--llm-base-url', server, '--llm-cache', tmp_path/'cache.sqlite', '--total-steps', 30,
               '--batch-size', 16, '--grading-budget', 40, '--query-selection', 'disagreement', '--log-dir', d, '--quiet'], env_with(WMIL_LLM_API_KEY=KEY))
    assert r.returncode == 0, r.stderr[-3000:]
    row = last_row(d)
    assert row['parent/grading_calls'] == row['parent/queries'] == 40 and row['parent/consequence_calls'] == 30 * 16
    assert 0 < row['parent/model_calls'] <= 40 and row['budget/labelled'] == 40

def test_world_moves_are_judged_by_the_server(server, tmp_path):
    "On GridNav the LLM parent judges each move until arrival (parent_judges: moves), trained with PPO over whole episodes; success stays the rule's."
    d = tmp_path/'run'
    r = train(['--task', 'grid_nav', '--num-actions', 4, '--algo', 'ppo', '--gamma', 0.99, '--rollout-len', 16, '--time-limit', 16, '--batch-size', 4,
               '--parent', 'llm', '--parent-judges', 'moves', '--llm-backend', 'openai', '--llm-base-url', server, '--llm-cache', tmp_path/'cache.sqlite',
               '--total-steps', 2, '--log-dir', d, '--quiet'], env_with(WMIL_LLM_API_KEY=KEY))
    assert r.returncode == 0, r.stderr[-3000:]
    row = last_row(d)
    assert 0 < row['parent/queries'] <= 2 * 16 * 4 and row['parent/model_calls'] > 0 and row['parent/fallbacks'] == 0
    assert -1 <= row['rewards/goal'] < 1 # paid +1 or -1 per move, not 1 or 0

@pytest.mark.parametrize('why', ['wrong key', 'unreachable', 'timeout', 'missing model', 'missing extra'])
def test_failures_are_one_line(server, tmp_path, why):
    d, args, env = tmp_path/'run', ['--parent', 'llm', '--llm-backend', 'openai', '--llm-cache', tmp_path/'c.sqlite', '--total-steps', 5,
                                    '--quiet'], env_with(WMIL_LLM_API_KEY=KEY)
    silent = socket.socket(); silent.bind(('127.0.0.1', 0)); silent.listen() # accepts connections, never answers
    expect = {'wrong key': 'HTTP 401', 'unreachable': 'unreachable after 3 tries', 'timeout': 'timed out',
              'missing model': 'does not exist', 'missing extra': 'pip install -e ".[llm]"'}[why]
    if why == 'wrong key': args += ['--llm-base-url', server]; env['WMIL_LLM_API_KEY'] = 'WRONG-' + KEY
    if why == 'unreachable': args += ['--llm-base-url', f'http://127.0.0.1:{free_port()}/v1']
    if why == 'timeout':
        (tmp_path/'t.yaml').write_text(f'llm_timeout: 1.0\nllm_retries: 0\n')
        args += ['--llm-base-url', f'http://127.0.0.1:{silent.getsockname()[1]}/v1', '--config', tmp_path/'t.yaml']
    if why == 'missing model': args = ['--parent', 'llm', '--llm-model', tmp_path/'nope.gguf', '--quiet']
    if why == 'missing extra': args = ['--parent', 'llm', '--quiet']
    cmd = 'import sys; sys.modules["transformers"] = None; ' if why == 'missing extra' else ''
    r = subprocess.run([sys.executable, '-c', cmd + 'from wmil.cli import main; main()', *map(str, args), '--log-dir', d],
                       capture_output=True, text=True, env=env, timeout=300)
    silent.close()
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert expect in r.stderr and 'wmil-train: error:' in r.stderr, r.stderr
    assert KEY not in r.stderr and not d.exists() # no secret shown, nothing half-written

def test_fallback_to_rule_is_counted(tmp_path):
    d = tmp_path/'run'
    r = train(['--parent', 'llm', '--llm-backend', 'openai', '--llm-base-url', f'http://127.0.0.1:{free_port()}/v1', '--llm-fallback', 'rule',
               '--llm-cache', tmp_path/'c.sqlite', '--total-steps', 3, '--batch-size', 8, '--log-dir', d, '--quiet'], env_with())
    assert r.returncode == 0, r.stderr[-2000:]
    row = last_row(d)
    assert row['parent/fallbacks'] == row['parent/queries'] == 24 and row['parent/model_calls'] == 0
    assert r.stderr.count('LLM parent fell back to the rule') == 1 # warned once, counted every time

def test_kill_9_then_resume_keeps_cache_and_asks_nothing_twice(server, tmp_path):
    d, cache = tmp_path/'run', tmp_path/'cache.sqlite'
    args = ['--parent', 'llm', '--llm-backend', 'openai', '--llm-base-url', server, '--llm-cache', cache, '--task', 'sequence_next',
            '--total-steps', 100000, '--batch-size', 16, '--log-dir', d, '--quiet']
    (tmp_path/'c.yaml').write_text('checkpoint_every: 20\nlog_every: 20\n')
    p = subprocess.Popen([sys.executable, '-c', 'from wmil.cli import main; main()', *map(str, args), '--config', tmp_path/'c.yaml'],
                         env=env_with(WMIL_LLM_API_KEY=KEY), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not (d/'checkpoint.pt').exists(): time.sleep(0.2)
    time.sleep(1.0)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    db = sqlite3.connect(cache)
    assert db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
    before = db.execute('SELECT COUNT(*) FROM judgements').fetchone()[0]; db.close()
    assert before > 0
    import torch
    calls_at_checkpoint = torch.load(d/'checkpoint.pt', weights_only=False)['env']['parent']['model_calls']
    r = train(['--resume', d, '--total-steps', torch.load(d/'checkpoint.pt', weights_only=False)['step'] + 40, '--quiet'], env_with(WMIL_LLM_API_KEY=KEY))
    assert r.returncode == 0, r.stderr[-3000:]
    after = sqlite3.connect(cache).execute('SELECT COUNT(*) FROM judgements').fetchone()[0]
    new_calls = last_row(d)['parent/model_calls'] - calls_at_checkpoint
    assert new_calls == after - before # every model call after the resume was a prompt the cache had never held

WRITER = """
import sys
from wmil.llm_parent import JudgementCache
c = JudgementCache(sys.argv[1])
for i in range(200): c.put([(f'{sys.argv[2]}-{i}-{j}', float(i), 't', 'p') for j in range(5)])
"""

def test_cache_takes_concurrent_writers(tmp_path):
    "Two processes filling one cache at once (as two seeds' runs or a sweep would): every answer lands, the database stays sound."
    procs = [subprocess.Popen([sys.executable, '-c', WRITER, str(tmp_path/'c.sqlite'), name]) for name in ('a', 'b')]
    assert [p.wait(120) for p in procs] == [0, 0]
    db = sqlite3.connect(tmp_path/'c.sqlite')
    assert db.execute('SELECT COUNT(*) FROM judgements').fetchone()[0] == 2 * 200 * 5
    assert db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
