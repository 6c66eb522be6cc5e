"""Sweeps on a real two-node Ray cluster on 127.0.0.1 (started and stopped here): the same numbers as in this process,
killed workers retried and resumed, reruns that train nothing, and a results root a worker cannot see. And the local Ray that
`wmil-sweep` starts itself: loopback only, and no answer without its token.

The cluster is Ray's own multi-node-on-one-machine launcher (`ray.cluster_utils.Cluster`): a head node and a second node,
each its own raylet, with the environment the package's own local Ray gets (`wmil.sweep.local_ray_env`: token authentication,
a fresh token). It stays on 127.0.0.1 because `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` keeps Ray from replacing the loopback
address by the machine's routable one. (`ray start --address=127.0.0.1:PORT` for the second
node cannot be used here: `ray start` rewrites 127.0.0.1 to the routable address, ray-project/ray#59110, and then never
reaches the head, measured with Ray 2.60.)"""
import os, re, signal, subprocess, sys, threading, time
from dataclasses import asdict
from pathlib import Path
import psutil, pytest
from conftest import ROOT, strip_timing

from wmil.sweep import local_ray_env, is_loopback
RAY_ENV = local_ray_env()
TOKEN = RAY_ENV['RAY_AUTH_TOKEN'] # the cluster's token: given to Ray through the environment only
os.environ.update(RAY_ENV) # before Ray is imported: it reads them at import (in this process and in every node it starts)
if os.environ.get('CI'): import ray # CI installs the [ray] extra: a missing one fails here, it is not skipped
ray = pytest.importorskip('ray', reason='needs the [ray] extra: pip install -e ".[ray]"')
import torch
from wmil.config import Config
from wmil.runs import load_runs, run_sweep
from wmil.sweep import plan_sweep, execute, run_job, sweep_configs, MARKER, _failed

BASE = Config(total_steps=30, batch_size=16, log_every=10, tensorboard=False)
CONDS = {'on': {}, 'off': {'world_model_coef': 0.0}}

@pytest.fixture(scope='module')
def cluster():
    "A head node and a second node (one CPU each) on 127.0.0.1, and this process connected as the driver; all stopped after the module."
    from ray.cluster_utils import Cluster
    c = Cluster(initialize_head=True, head_node_args={'num_cpus': 1})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, log_to_driver=False)
    try:
        assert {n['NodeManagerAddress'] for n in ray.nodes() if n['Alive']} == {'127.0.0.1'} and len(ray.nodes()) == 2
        yield c.address
    finally:
        ray.shutdown(); c.shutdown()

def learning(root)->dict:
    "Every learned number of the runs under `root`: (run, seed, step, metric) -> value, timings left out."
    df = load_runs(root)
    df = df[~df.metric.str.startswith(('perf/', 'time/'))].dropna(subset=['value']) # NaN: nothing to average yet (no episode ended)
    return {(r.run, r.seed, r.step, r.metric): r.value for r in df.itertuples()}

def in_process(root, cfgs, seeds, **kw):
    "The reference: the same jobs in this process with one torch thread, as each Ray job has."
    n = torch.get_num_threads()
    try: return execute(plan_sweep(root, cfgs, seeds, **kw), root, threads=1, progress=False)
    finally: torch.set_num_threads(n)

def test_ray_sweep_equals_in_process_and_reruns_nothing(cluster, tmp_path):
    cfgs = sweep_configs(BASE, CONDS)
    res = execute(plan_sweep(tmp_path/'ray', cfgs, [0, 1], seeds_per_job=1), tmp_path/'ray', executor='ray', progress=False)
    assert sorted(r['action'] for r in res) == ['trained'] * 4, res
    assert len({r['host'] for r in res}) == 1 # two nodes, one machine
    in_process(tmp_path/'local', cfgs, [0, 1], seeds_per_job=1)
    a, b = learning(tmp_path/'ray'), learning(tmp_path/'local')
    assert a.keys() == b.keys() and len(a) > 100 and a == b
    # a second launch trains nothing: every job is planned as complete
    assert run_sweep(tmp_path/'ray', BASE, CONDS, [0, 1], progress=False, executor='ray', seeds_per_job=1) == {'on': [], 'off': []}
    # the cluster's token is in no file the sweep wrote
    assert not [p for p in (tmp_path/'ray').rglob('*') if p.is_file() and TOKEN.encode() in p.read_bytes()]

def kill_when(run:Path, ready, timeout=60.0):
    "Wait until `ready(run)`, then SIGKILL the worker process that holds the run's lock; return its pid."
    lock, t0 = run.parent/f'.{run.name}.wmil-lock', time.time()
    while time.time() - t0 < timeout:
        if ready(run) and lock.exists() and lock.read_text().strip():
            pid = int(lock.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.02)
    raise AssertionError(f'{run} never became ready to be killed')

@pytest.mark.parametrize('when, checkpoint_every, action',
                         [('after its first checkpoint', 50, 'resumed'), ('before its first checkpoint', 10_000, 'restarted')])
def test_killed_worker_is_retried_and_finishes_as_if_never_killed(cluster, tmp_path, when, checkpoint_every, action):
    cfg = Config(total_steps=600, batch_size=16, log_every=25, checkpoint_every=checkpoint_every, tensorboard=False)
    cfgs = {'c': cfg}
    jobs = plan_sweep(tmp_path/'ray', cfgs, [0, 1])
    out = {}
    t = threading.Thread(target=lambda: out.update(res=execute(jobs, tmp_path/'ray', executor='ray', max_retries=2, progress=False)))
    t.start()
    run = Path(jobs[0].run_dir)
    ready = (lambda r: (r/'checkpoint.pt').exists()) if checkpoint_every < 600 else (lambda r: (r/'metrics.jsonl').exists()
        and (r/'metrics.jsonl').stat().st_size > 0)
    kill_when(run, ready)
    t.join(180)
    assert not t.is_alive()
    assert [r['action'] for r in out['res']] == [action], out['res']
    in_process(tmp_path/'local', cfgs, [0, 1])
    a, b = learning(tmp_path/'ray'), learning(tmp_path/'local')
    assert a.keys() == b.keys() and a == b # the retry lost nothing and repeated nothing

def test_root_a_worker_cannot_see_fails_with_one_line(cluster, tmp_path):
    jobs = plan_sweep(tmp_path/'seen', sweep_configs(BASE, {'on': {}}), [0])
    with pytest.raises(Exception) as e: ray.get(ray.remote(run_job).options(max_retries=0).remote(asdict(jobs[0]), str(tmp_path/'unseen')))
    why = _failed(jobs[0], e.value)['error']
    assert why.startswith('wmil.sweep.SweepError: results root') or 'is not visible from worker' in why, why
    assert 'is not visible from worker' in why and '\n' not in why and MARKER in why

def test_wmil_sweep_joins_the_cluster_by_address(cluster, tmp_path):
    (tmp_path/'sweep.yaml').write_text("base: {total_steps: 30, batch_size: 16, log_every: 10, tensorboard: false}\n"
                                       "conditions: {wm_on: {}, wm_off: {world_model_coef: 0.0}}\nseeds: 0-1\nroot: results\nexecutor: ray\nseeds_per_job: 1\n")
    run = lambda: subprocess.run([sys.executable, '-c', 'from wmil.sweep import main; main()', str(tmp_path/'sweep.yaml'), '--address', cluster, '--quiet'],
                                 capture_output=True, text=True, timeout=300, env={**os.environ, **RAY_ENV})
    r = run()
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == '4 trained, 0 restarted, 0 resumed, 0 skipped, 0 failed', r.stdout
    r = run()
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == '0 trained, 0 restarted, 0 resumed, 4 skipped, 0 failed', r.stdout
    assert TOKEN not in r.stdout + r.stderr

def _listening(procs)->dict:
    "(process name, ip, port) -> pid for every listening TCP socket of `procs` (those gone meanwhile left out)."
    out = {}
    for p in procs:
        try: out.update({(p.name(), c.laddr.ip, c.laddr.port): p.pid for c in p.net_connections('inet') if c.status == psutil.CONN_LISTEN})
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess): pass
    return out

def _ask_gcs(address, token=None):
    "One request to a GCS server, with the token or without it: the number of nodes, or the gRPC status it answered with."
    import grpc
    from ray.core.generated import gcs_service_pb2 as pb, gcs_service_pb2_grpc as rpc
    with grpc.insecure_channel(address) as ch:
        try: return len(rpc.NodeInfoGcsServiceStub(ch).GetAllNodeInfo(pb.GetAllNodeInfoRequest(), timeout=20,
                        metadata=[('authorization', f'Bearer {token}')] if token else None).node_info_list)
        except grpc.RpcError as e: return e.code().name

def test_local_ray_of_wmil_sweep_listens_on_loopback_only_and_needs_its_token(tmp_path):
    """`wmil-sweep` with `executor: ray` and no address, as a user runs it: while it trains, every process it started listens on loopback only,
    and its GCS answers only with the token."""
    (tmp_path/'sweep.yaml').write_text("base: {total_steps: 200, batch_size: 32, log_every: 50, tensorboard: false}\n"
                                       "conditions: {wm_on: {}, wm_off: {world_model_coef: 0.0}}\nseeds: 0-1\nroot: results\nexecutor: ray\nseeds_per_job: 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith('RAY_')} # a user's shell: no Ray settings of ours
    cli = Path(sys.executable).parent/'wmil-sweep'
    cmd = [str(cli)] if cli.exists() else [sys.executable, '-c', 'from wmil.sweep import main; main()']
    p = subprocess.Popen([*cmd, str(tmp_path/'sweep.yaml'), '--quiet'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    me, seen, asked, gcs = psutil.Process(p.pid), {}, {}, None
    try:
        while p.poll() is None:
            try: procs = [me, *me.children(recursive=True)]
            except psutil.NoSuchProcess: break
            seen.update(_listening(procs))
            if gcs is None:
                gcs = next((q for q in procs if q.name() == 'gcs_server' and any(k[0] == 'gcs_server' for k in _listening([q]))), None)
                if gcs is not None:
                    port = next(k[2] for k in _listening([gcs]) if k[0] == 'gcs_server')
                    token = gcs.environ().get('RAY_AUTH_TOKEN') # where the token lives: the processes' environment
                    asked = {'without': _ask_gcs(f'127.0.0.1:{port}'), 'wrong': _ask_gcs(f'127.0.0.1:{port}', 'x' * 43),
                             'with': _ask_gcs(f'127.0.0.1:{port}', token)}
                    session = next(re.search(r'/\S*/session_[^/\s]+', a)[0] for a in gcs.cmdline() if re.search(r'/session_[^/\s]+', a)) # Ray's logs
            time.sleep(0.2)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None: p.kill(); p.communicate()
    assert p.returncode == 0, err[-3000:]
    assert out.strip().splitlines()[-1] == '4 trained, 0 restarted, 0 resumed, 0 skipped, 0 failed', out
    names = {k[0] for k in seen}
    assert {'gcs_server', 'raylet'} <= names and any(n.startswith('ray::') for n in names), seen # the cluster's processes were seen listening
    assert [k for k in seen if not is_loopback(k[1])] == [], seen
    assert asked['without'] == asked['wrong'] == 'UNAUTHENTICATED' and isinstance(asked['with'], int), asked # with the token: the nodes registered so far
    assert token and len(token) >= 40
    written = [f for d in (tmp_path, Path(session)) for f in d.rglob('*') if f.is_file() and token.encode() in f.read_bytes()]
    assert written == [] and token not in out + err
    assert not (Path.home()/'.ray'/'auth_token').exists() or token not in (Path.home()/'.ray'/'auth_token').read_text()
