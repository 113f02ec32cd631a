import json, os, subprocess, sys
from pathlib import Path
import pytest
from huggingtweets.cli import main
from huggingtweets.train import make_tiny_model
from util import make_archive, sample_tweets, shared


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp('tiny')/'gpt2', texts=sample_tweets(200))


def test_fetch_prints_the_table(tmp_path, capsys):
    z = make_archive(tmp_path/'a.zip', sample_tweets(100))
    rc, out, err = run(capsys, 'fetch', f'archive:{z}', '--data-dir', tmp_path/'data')
    assert rc == 0
    lines = out.splitlines()
    assert [l.split()[-1] for l in lines if l.startswith(('Tweets downloaded', 'Retweets', 'Short tweets', 'Tweets kept'))] == ['100', '10', '10', '80']
    st = json.loads((tmp_path/'data/jack/stats.json').read_text())
    assert (st['handle'], st['source'], st['kept']) == ('jack', 'archive', 80)


def test_real_archive_end_to_end_offline(tmp_path, capsys, tiny, monkeypatch):
    arch = shared('data', 'archives', 'andreruffert_2022-11')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('WANDB_DATA_DIR', str(tmp_path/'wandb-data'))
    monkeypatch.setenv('WANDB_CACHE_DIR', str(tmp_path/'wandb-cache'))
    monkeypatch.setenv('WANDB_CONFIG_DIR', str(tmp_path/'wandb-config'))
    monkeypatch.delenv('WANDB_API_KEY', raising=False)
    rc, out, err = run(capsys, 'run', f'archive:{arch}', '--base-model', tiny, '--block-size', 64, '--max-steps', 20,
                       '--wandb', 'offline', '-n', 4, '--data-seed', 1)
    assert rc == 0, err
    m = tmp_path/'models'/'andreruffert'
    card = (m/'README.md').read_text()
    assert "| Tweets downloaded | 1986 |" in card and "| Retweets | 643 |" in card and 'AI BOT' in card
    assert 'Prompt: My dream is' in out and '4. My dream is' in out
    assert len(list((tmp_path/'wandb').glob('offline-run-*'))) == 2  # preprocess and train
    assert json.loads((tmp_path/'data/andreruffert/dataset/dataset.json').read_text())['seed'] == 1


@pytest.mark.parametrize('args, msg', [
    (['fetch', 'myspace:tom'], 'Unknown source'),
    (['fetch', 'archive:/nonexistent/archive.zip'], 'No archive at'),
    (['fetch', 'a1', 'a2', 'a3', 'a4'], 'one to three'),
    (['generate', '/nonexistent/model'], 'Could not load a model'),
    (['push', '/nonexistent/model'], 'not a model folder'),
])
def test_errors_are_one_line(capsys, args, msg):
    rc, out, err = run(capsys, *args)
    assert rc == 1 and msg in err and err.count('\n') == 1 and 'Traceback' not in err


def test_too_little_data(tmp_path, capsys):
    (tmp_path/'few.txt').write_text('just a few words here\n' * 5)
    rc, out, err = run(capsys, 'dataset', f'file:{tmp_path}/few.txt', '--data-dir', tmp_path/'d', '--out', tmp_path/'ds')
    assert rc == 1 and '@few has only' in err and 'at least 6,000' in err
    assert not (tmp_path/'ds').exists()


def test_console_script_installed(tmp_path):
    r = subprocess.run(['huggingtweets', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'fetch' in r.stdout and 'generate' in r.stdout
