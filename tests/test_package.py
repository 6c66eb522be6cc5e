"""Packaging and documentation checks: README in step with the index notebook, CI runs the README's test command."""
import re, subprocess, sys
from pathlib import Path
from conftest import ROOT

def _readme_commands():
    return re.findall(r'```sh\n(.*?)\n```', (ROOT/'README.md').read_text(), re.S)

def test_readme_matches_index_notebook():
    out = subprocess.run([sys.executable, '-m', 'nbconvert', '--to', 'markdown', '--stdout', str(ROOT/'nbs'/'index.ipynb')],
                         capture_output=True, text=True, check=True).stdout
    assert out == (ROOT/'README.md').read_text(), \
        'README.md is stale: run `jupyter nbconvert --to markdown --stdout nbs/index.ipynb > README.md`'

def test_readme_gives_two_setup_commands_and_ci_runs_the_test_one():
    cmds = _readme_commands()
    main, test = cmds[0], cmds[1]
    assert 'wmil-train' in main and 'pip install' in main
    assert 'nbdev_test' in test
    assert test in (ROOT/'.ci'/'run').read_text(), '.ci/run must run the README test command verbatim'

def test_import_registers_gymnasium_envs():
    import gymnasium as gym, wmil
    for env_id in ['wmil/PatternEcho-v0', 'wmil/SequenceNext-v0', 'wmil/Conditional-v0']:
        assert env_id in gym.registry

def test_default_yaml_matches_config():
    from wmil.trainer import Config, load_config, DEFAULT_CONFIG
    assert load_config(DEFAULT_CONFIG) == Config()

def test_default_yaml_lists_every_field():
    import yaml
    from dataclasses import fields
    from wmil.trainer import Config, DEFAULT_CONFIG
    assert set(yaml.safe_load(DEFAULT_CONFIG.read_text())) == {f.name for f in fields(Config)}
