"End to end: offline W&B runs around a real (tiny) fine-tuning, and what their files recorded."
import json, sys, time
from pathlib import Path
import pytest
import fastcore.test as fct
from huggingtweets import track
from huggingtweets.sources import Account, Post, UserError, save_cache, cache_path
from huggingtweets.clean import curate
from huggingtweets.dataset import make_dataset
from huggingtweets.train import TrainConfig, make_tiny_model, finetune

SECRETS = dict(WANDB_API_KEY='secret-key-123', HF_TOKEN='hf_secret_token_456', X_BEARER_TOKEN='x-bearer-secret-789')
ARGV_SECRET = 'argv-secret-000'

def _wandb_env(mp, tmp):
    "W&B's own folders in `tmp`, no login, no mode from outside"
    for k in ('WANDB_API_KEY', 'WANDB_MODE', 'WANDB_DISABLED', 'WANDB_BASE_URL', 'WANDB_IDENTITY_TOKEN_FILE', 'WANDB_DIR'):
        mp.delenv(k, raising=False)
    for k, d in dict(WANDB_DATA_DIR='wb-data', WANDB_CACHE_DIR='wb-cache', WANDB_CONFIG_DIR='wb-config', WANDB_ARTIFACT_DIR='wb-artifacts').items():
        mp.setenv(k, str(tmp/d))
    mp.setenv('HOME', str(tmp/'home'))
    mp.setenv('NETRC', str(tmp/'home'/'.netrc'))

def _dataset(tmp):
    posts = [Post(f'My dream is to write post number {i} about robots and #AI') for i in range(20)] + [Post('RT @bob: a repost', repost=True)]
    acc = Account('alice', 'file', posts, 'Alice', avatar=str(tmp/'data'/'alice'/'avatar.jpg'), spec=f'file:{tmp}/alice.txt')
    save_cache(acc, cache_path(tmp/'data', 'alice'))
    c = curate(acc)
    c.stats.save(cache_path(tmp/'data', 'alice').parent/'stats.json')
    with pytest.warns(UserWarning): return make_dataset([c], seed=7, min_chars=100)

@pytest.fixture(scope='module')
def flow(tmp_path_factory):
    "The whole tracked flow, offline, with secrets in the environment and on the command line"
    tmp = tmp_path_factory.mktemp('track')
    with pytest.MonkeyPatch.context() as mp:
        _wandb_env(mp, tmp)
        for k, v in SECRETS.items(): mp.setenv(k, v)
        mp.setattr(sys, 'argv', ['huggingtweets', 'train', '--hf-token', ARGV_SECRET, '--x-token=' + ARGV_SECRET, SECRETS['HF_TOKEN']])
        ds = _dataset(tmp)
        cfg = TrainConfig(base_model=str(make_tiny_model(tmp/'tiny')), block_size=64, max_steps=3)
        t = track.Tracking('offline', dir=tmp/'runs', quiet=True)
        assert t.mode == 'offline' # forced, though a key is set
        t0 = time.perf_counter()
        links = track.log_preprocess(t, ds, tmp/'data')
        with track.train_run(t, ds, cfg) as run:
            track.log_base_model(run, cfg.base_model)
            links |= track.run_links(run, 'train')
            res = finetune(ds, tmp/'model', cfg, callbacks=track.metrics_callbacks(run), progress=False)
            track.log_result(run, res)
            track.log_finetuned(run, tmp/'model')
            track.log_predictions(run, 'My dream is', ['My dream is robots', 'My dream is #AI'])
        assert sys.argv[3] == ARGV_SECRET # restored after init
        secs = time.perf_counter() - t0
        dirs = track.offline_runs(t)
        runs = [track.read_offline_run(d) for d in dirs]
        yield dict(tmp=tmp, t=t, ds=ds, cfg=cfg, res=res, links=links, dirs=dirs, runs=runs, secs=secs)

def test_two_runs(flow):
    assert [r['job_type'] for r in flow['runs']] == ['preprocess', 'train']
    assert [r['exit_code'] for r in flow['runs']] == [0, 0]
    assert {r['project'] for r in flow['runs']} == {'huggingtweets'}
    assert flow['links'] == {'mode': 'offline'} # offline runs have no addresses yet; the card says so
    assert all(d.parent == flow['tmp']/'runs'/'wandb' and d.name.startswith('offline-run-') for d in flow['dirs'])

def test_artifact_types_in_run_files(flow):
    pre, tr = (next(d.glob('run-*.wandb')).read_bytes() for d in flow['dirs'])
    for typ in (b'raw-dataset', b'train-dataset'): assert typ in pre
    for typ in (b'pretrained-model', b'finetuned-model'): assert typ in tr
    pre, tr = flow['runs']
    assert [(a['type'], a['name'], a['files']) for a in pre['artifacts']] == [
        ('raw-dataset', 'raw-alice', ['posts.jsonl', 'stats.json']), ('train-dataset', 'train-alice', ['dataset.json', 'train.txt', 'valid.txt'])]
    arts = {a['type']: a for a in tr['artifacts']}
    assert arts['pretrained-model']['name'] == 'base-tiny' and 'config.json' in arts['pretrained-model']['files']
    assert arts['finetuned-model']['name'] == 'model-alice'
    assert {'config.json', 'model.safetensors', 'huggingtweets.json', 'generation_config.json'} <= set(arts['finetuned-model']['files'])

def test_predictions_table(flow):
    tr = flow['runs'][1]
    assert 'run_table' in [a['type'] for a in tr['artifacts']]
    assert tr['summary']['predictions']['_type'] == 'table-file'
    table = json.loads((flow['dirs'][1]/'files'/tr['summary']['predictions']['path']).read_text())
    assert table['columns'] == ['Input', 'Prediction']
    assert table['data'] == [['My dream is', 'My dream is robots'], ['My dream is', 'My dream is #AI']]

def test_metrics(flow):
    tr, res = flow['runs'][1], flow['res']
    losses = [h['train/loss'] for h in tr['history'] if 'train/loss' in h]
    assert losses and all(l > 0 for l in losses)
    assert all('train/global_step' in h for h in tr['history'])
    fct.test_close(tr['summary']['valid_loss'], res.valid_loss)
    fct.test_close(tr['summary']['perplexity'], res.perplexity)
    fct.test_close(tr['summary']['train_loss'], res.train_loss)
    assert tr['summary']['steps'] == 3
    assert any('valid_loss' in h for h in tr['history']) # what finetune reports through Trainer.log

def test_configs(flow):
    pre, tr = flow['runs']
    assert pre['config']['accounts'] == ['alice'] and pre['config']['seed'] == 7 and pre['config']['epochs'] == 4
    assert tr['config']['versions']['huggingtweets'] == track.versions()['huggingtweets']
    assert tr['config']['versions']['torch'] and tr['config']['versions']['transformers']
    assert {k: tr['config'][k] for k in ('base_model', 'base_model_local', 'block_size', 'max_steps', 'learning_rate')} == \
           dict(base_model='tiny', base_model_local=True, block_size=64, max_steps=3, learning_rate=1.372e-4) # no local paths
    assert pre['config']['specs'] == ['file:alice.txt']
    assert tr['config']['input_artifacts'] == ['raw-alice', 'train-alice']

def test_dataset_artifact_is_public(flow):
    "The logged dataset.json (in W&B's staging folder) holds the public spec"
    staged = [json.loads(f.read_text()) for f in (flow['tmp']/'wb-data').rglob('*') if f.is_file() and f.read_bytes().startswith(b'{\n  "name"')]
    staged = [d for d in staged if 'train_chars' in d]
    assert len(staged) == 1 and [a['spec'] for a in staged[0]['accounts']] == ['file:alice.txt']

def test_no_local_path_in_staged_files(flow):
    "What W&B stages for upload names no folder of this machine: the raw posts' header has the public spec and the avatar's file name"
    tmp = str(flow['tmp']).encode()
    staged = [f for f in (flow['tmp']/'wb-data').rglob('*') if f.is_file()]
    assert len(staged) > 10
    fct.test_eq([str(f) for f in staged if tmp in f.read_bytes()], [])
    raw = [f for f in staged if f.read_bytes().startswith(b'{"account": ')]
    fct.test_eq(len(raw), 1)
    lines = raw[0].read_text().splitlines()
    head = json.loads(lines[0])['account']
    fct.test_eq((head['handle'], head['spec'], head['avatar']), ('alice', 'file:alice.txt', 'avatar.jpg'))
    cached = cache_path(flow['tmp']/'data', 'alice').read_text().splitlines()
    fct.test_eq(lines[1:], cached[1:]) # the posts as cached
    assert json.loads(cached[0])['account']['spec'] == f"file:{flow['tmp']}/alice.txt" # the cache itself is untouched

def test_no_secret_in_any_file(flow):
    "Neither the W&B key nor the other tokens, from the environment or the command line, reach a file"
    secrets = [v.encode() for v in SECRETS.values()] + [ARGV_SECRET.encode()]
    files = [f for f in flow['tmp'].rglob('*') if f.is_file()]
    assert len(files) > 20
    leaks = [(str(f), s) for f in files for s in secrets if s in f.read_bytes()]
    assert leaks == []

def test_fast_enough(flow):
    assert flow['secs'] < 40

def test_failure_finishes_the_run(tmp_path, monkeypatch):
    _wandb_env(monkeypatch, tmp_path)
    t = track.Tracking(None, dir=tmp_path/'runs', quiet=True)
    assert t.mode == 'offline' # no key configured
    with pytest.raises(ValueError, match='boom'):
        with track.tracked_run(t, 'train', 'broken') as run:
            run.log({'x': 1})
            raise ValueError('boom')
    (d,) = track.offline_runs(t)
    r = track.read_offline_run(d)
    assert r['exit_code'] == 1 and r['history'][0]['x'] == 1

def test_disabled_is_a_noop(tmp_path, monkeypatch):
    _wandb_env(monkeypatch, tmp_path)
    ds = _dataset(tmp_path)
    t = track.Tracking('disabled', dir=tmp_path/'runs')
    t0 = time.perf_counter()
    assert track.log_preprocess(t, ds, tmp_path/'data') == {}
    with track.train_run(t, ds, TrainConfig(base_model='gpt2')) as run:
        assert run is None
        assert track.metrics_callbacks(run) == [] and track.run_links(run, 'train') == {}
        track.log_base_model(run, 'gpt2'); track.log_result(run, None); track.log_finetuned(run, tmp_path); track.log_predictions(run, 'a', ['b'])
    assert time.perf_counter() - t0 < 0.5
    assert not (tmp_path/'runs').exists()

def test_missing_cache_warns(tmp_path, monkeypatch):
    _wandb_env(monkeypatch, tmp_path)
    ds = _dataset(tmp_path)
    t = track.Tracking('offline', dir=tmp_path/'runs', quiet=True)
    with pytest.warns(UserWarning, match='No cached posts of @alice'): track.log_preprocess(t, ds, tmp_path/'elsewhere')
    (d,) = track.offline_runs(t)
    assert [a['type'] for a in track.read_offline_run(d)['artifacts']] == ['train-dataset']

def test_hub_base_model_is_a_reference(tmp_path, monkeypatch):
    "A Hub id is recorded without downloading anything (this machine is offline)"
    _wandb_env(monkeypatch, tmp_path)
    t = track.Tracking('offline', dir=tmp_path/'runs', quiet=True)
    with track.tracked_run(t, 'train', 'x') as run: track.log_base_model(run, 'openai-community/gpt2')
    (a,) = track.read_offline_run(track.offline_runs(t)[0])['artifacts']
    assert (a['type'], a['name'], a['files']) == ('pretrained-model', 'base-openai-community-gpt2', ['gpt2'])

def test_online_without_key_is_a_user_error(tmp_path, monkeypatch):
    _wandb_env(monkeypatch, tmp_path)
    t = track.Tracking('online', dir=tmp_path/'runs', quiet=True)
    with pytest.raises(UserError, match='wandb login'):
        with track.tracked_run(t, 'train', 'x'): pass

@pytest.mark.parametrize('mode, env, key, expected', [
    (None, {}, False, 'offline'),
    (None, {}, True, 'online'),
    (None, {'WANDB_API_KEY': 'k' * 40}, False, 'online'),
    ('offline', {'WANDB_API_KEY': 'k' * 40}, True, 'offline'),
    ('disabled', {}, True, 'disabled'),
    (None, {'WANDB_MODE': 'disabled'}, True, 'disabled'),
    (None, {'WANDB_MODE': 'offline'}, True, 'offline'),
    (None, {'WANDB_MODE': 'dryrun'}, False, 'offline'),
    ('online', {'WANDB_MODE': 'disabled'}, False, 'online'),
    (None, {'WANDB_DISABLED': 'true'}, True, 'disabled'),
    (None, {'WANDB_BASE_URL': 'https://wandb.example.com'}, True, 'offline'), # the netrc entry is for api.wandb.ai
])
def test_wandb_mode(tmp_path, mode, env, key, expected):
    home = tmp_path/'home'
    home.mkdir()
    if key: (home/'.netrc').write_text('machine api.wandb.ai\n  login user\n  password ' + 'a' * 40 + '\n')
    assert track.wandb_mode(mode, {'HOME': str(home)} | env) == expected

def test_wandb_mode_netrc_variable(tmp_path):
    f = tmp_path/'my-netrc'
    f.write_text('machine wandb.example.com login user password ' + 'b' * 40 + '\n')
    env = {'HOME': str(tmp_path), 'NETRC': str(f), 'WANDB_BASE_URL': 'https://wandb.example.com'}
    assert track.wandb_mode(None, env) == 'online'
    f.write_text('this is not a netrc file "')
    assert track.wandb_mode(None, env) == 'offline'

@pytest.mark.parametrize('bad', ['cloud', 'true', 'of'])
def test_wandb_mode_rejects(bad):
    with pytest.raises(UserError, match='not a W&B mode'): track.wandb_mode(bad, {})
    with pytest.raises(UserError, match='WANDB_MODE'): track.wandb_mode(None, {'WANDB_MODE': bad})
