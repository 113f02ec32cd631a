"End to end: offline W&B runs around a real (tiny) fine-tuning, and what their files recorded (read with tests/wandb_offline.py)."
import base64, getpass, json, shutil, socket, subprocess, time
from pathlib import Path
from urllib.parse import quote, quote_plus
import pytest
from util import wandb_env
import fastcore.test as fct
from huggingtweets import track
from huggingtweets.core import Account, Post, UserError, mask_secrets
from huggingtweets.sources import parse_spec, cache_dir, save_cache, CACHE_NAME
from huggingtweets.clean import curate
from huggingtweets.dataset import make_dataset
from huggingtweets.memorize import Memorization
from huggingtweets.record import ModelRecord
from huggingtweets.train import TrainConfig, make_tiny_model, finetune, save_model
from wandb_offline import read_offline_run, offline_runs, run_records

SECRETS = dict(WANDB_API_KEY='secret-key-123', HF_TOKEN='hf_secret_token_456', X_BEARER_TOKEN='x-bearer-secret-789')
GIT_SECRET = 'ghp_SECRET'
REMOTE = f'https://user:{GIT_SECRET}@github.com/x/y'
FAKE_USER = 'ht_fake_user_917'  # USER and LOGNAME during the flow: found in a file, it was recorded
PREDS = ['My dream is robots', 'My dream is #AI']


_wandb_env = wandb_env


def _cache(tmp):
    "The folder of alice's cache under tmp/data"
    return cache_dir(tmp/'data', parse_spec(f'file:{tmp}/alice.txt'))


def _dataset(tmp):
    spec = f'file:{tmp}/alice.txt'
    posts = [Post(f'My dream is to write post number {i} about robots and #AI') for i in range(20)] + [Post('RT @bob: a repost', repost=True)]
    acc = Account('alice', 'file', posts, 'Alice', avatar=str(tmp/'data'/'alice'/'avatar.jpg'), spec=spec, identity=parse_spec(spec).identity)
    save_cache(acc, _cache(tmp)/CACHE_NAME)
    c = curate(acc)
    c.stats.save(_cache(tmp)/'stats.json')
    with pytest.warns(UserWarning): return make_dataset([c], seed=7, min_chars=100)


def _git_repo(repo):
    "A git repository whose remote holds a token; False when git is not installed"
    if shutil.which('git') is None: return False
    repo.mkdir()
    subprocess.run(['git', 'init', '-q'], cwd=repo, check=True)
    subprocess.run(['git', 'remote', 'add', 'origin', REMOTE], cwd=repo, check=True)
    return True


@pytest.fixture(scope='module')
def flow(tmp_path_factory):
    "The whole tracked flow, offline, as the pipeline runs it: secrets in the environment, a git repository with a token in its remote as the current folder"
    tmp = tmp_path_factory.mktemp('track')
    with pytest.MonkeyPatch.context() as mp:
        _wandb_env(mp, tmp)
        for k, v in SECRETS.items(): mp.setenv(k, v)
        for k in ('USER', 'LOGNAME'): mp.setenv(k, FAKE_USER)
        git = _git_repo(tmp/'repo')
        mp.chdir(tmp/'repo' if git else tmp)
        ds = _dataset(tmp)
        cfg = TrainConfig(base_model=str(make_tiny_model(tmp/'tiny')), block_size=64, max_steps=3)
        t = track.Tracking('offline', dir=tmp/'runs', quiet=True)
        assert t.mode == 'offline' # forced, though a key is set
        t0 = time.perf_counter()
        links, pre_dir = track.log_preprocess(t, ds, tmp/'data')
        with track.train_run(t, ds, cfg) as run:
            track.log_base_model(run, cfg.base_model)
            links = track.merge_links(links, track.run_links(run, 'train'))
            tok, model, res = finetune(ds, cfg, callbacks=track.metrics_callbacks(run), progress=False)
            folder = save_model(tok, model, tmp/'model')
            record = ModelRecord(ds.info, res, wandb=links, languages=[['en', 1.0]], memorization=dict(share=0.5, n=2),
                                 timings={'train': 1.5}, versions=track.versions())
            record.save(folder)
            (folder/'training-posts.txt').write_text('My dream is robots\n')  # local only, like predictions/
            (folder/'predictions').mkdir()
            (folder/'predictions'/'first.json').write_text('[]')
            track.log_predictions(run, 'My dream is', PREDS, [False, True])
            track.log_copies(run, Memorization(0.5, 0.5, 0.5, 2, [(PREDS[0], PREDS[0], 1.0)], {'threshold': 0.9}))
            track.log_finetuned(run, folder, record)
            track.log_result(run, record)
            train_dir = track.run_folder(run)
        secs = time.perf_counter() - t0
        dirs = offline_runs(t)
        runs = [read_offline_run(d) for d in dirs]
        yield dict(tmp=tmp, t=t, ds=ds, cfg=cfg, res=res, record=record, links=links, dirs=dirs, runs=runs, secs=secs,
                   pre_dir=pre_dir, train_dir=train_dir, git=git)


def test_two_runs(flow):
    assert [r['job_type'] for r in flow['runs']] == ['preprocess', 'train']
    assert [r['exit_code'] for r in flow['runs']] == [0, 0]
    assert {r['project'] for r in flow['runs']} == {'huggingtweets'}
    ids = [d.name.rsplit('-', 1)[1] for d in flow['dirs']]
    assert flow['links'] == {'mode': 'offline', 'project': 'huggingtweets', 'runs': {'preprocess': ids[0], 'train': ids[1]}}  # no addresses yet: the card says offline
    assert all(d.parent == flow['tmp']/'runs'/'wandb' and d.name.startswith('offline-run-') for d in flow['dirs'])
    assert [flow['pre_dir'], flow['train_dir']] == [d.resolve() for d in flow['dirs']]  # what `wandb sync` takes


def test_artifact_types_in_run_files(flow):
    pre, tr = (next(d.glob('run-*.wandb')).read_bytes() for d in flow['dirs'])
    for typ in (b'raw-dataset', b'train-dataset'): assert typ in pre
    for typ in (b'pretrained-model', b'finetuned-model'): assert typ in tr
    pre, tr = flow['runs']
    raw, train = pre['artifacts']
    assert (raw['type'], raw['name'], raw['files']) == ('raw-dataset', 'raw-alice', ['posts.jsonl', 'stats.json'])
    assert (train['type'], train['name']) == ('train-dataset', 'train-alice')
    files = train['files']  # the saved DatasetDict folder, with the posts table and the texts
    assert {f.split('/')[0] for f in files} == {'dataset_dict.json', 'train', 'validation', 'posts', 'dataset.json', 'train.txt', 'valid.txt'}
    for split in ('train', 'validation', 'posts'):
        inside = {f.split('/', 1)[1] for f in files if f.startswith(split + '/')}
        assert {'dataset_info.json', 'state.json'} <= inside and any(f.endswith('.arrow') for f in inside), split
    arts = {a['type']: a for a in tr['artifacts']}
    assert arts['pretrained-model']['name'] == 'base-tiny' and 'config.json' in arts['pretrained-model']['files']
    assert arts['finetuned-model']['name'] == 'model-alice'
    fine = set(arts['finetuned-model']['files'])
    assert {'config.json', 'model.safetensors', 'huggingtweets.json', 'generation_config.json', 'tokenizer.json'} <= fine
    assert 'training-posts.txt' not in fine and not any(f.startswith('predictions') for f in fine)  # local only


def _table(flow, key):
    tr = flow['runs'][1]
    assert tr['summary'][key]['_type'] == 'table-file'
    return json.loads((flow['dirs'][1]/'files'/tr['summary'][key]['path']).read_text())


def test_predictions_table(flow):
    tr = flow['runs'][1]
    assert [a['name'].rsplit('-', 1)[1] for a in tr['artifacts'] if a['type'] == 'run_table'] == ['predictions', 'copies']
    table = _table(flow, 'predictions')
    assert table['columns'] == ['Input', 'Prediction', 'Copy']
    assert table['data'] == [['My dream is', PREDS[0], False], ['My dream is', PREDS[1], True]]
    copies = _table(flow, 'copies')
    assert copies['columns'] == ['Generated', 'Training post', 'Similarity'] and copies['data'] == [[PREDS[0], PREDS[0], 1.0]]


def test_metrics(flow):
    tr, res = flow['runs'][1], flow['res']
    logged = [h for h in tr['history'] if 'train/loss' in h]
    assert len(logged) == 3 and all(h['train/loss'] > 0 for h in logged)  # one row a step: 3 steps, logged every step
    assert all('train/learning_rate' in h and 'train/grad_norm' in h for h in logged)
    assert [h['train/global_step'] for h in logged] == [1, 2, 3]
    assert logged[0]['train/learning_rate'] == pytest.approx(1.372e-4) and logged[-1]['train/learning_rate'] < logged[0]['train/learning_rate']  # cosine
    assert all('train/global_step' in h for h in tr['history'])
    fct.test_close(tr['summary']['valid_loss'], res.valid_loss)
    fct.test_close(tr['summary']['perplexity'], res.perplexity)
    fct.test_close(tr['summary']['train_loss'], res.train_loss)
    fct.test_close(tr['summary']['base_valid_loss'], res.base_valid_loss)
    assert tr['summary']['steps'] == 3 and tr['summary']['device'] == 'cpu'
    assert (tr['summary']['languages'], tr['summary']['memorization'], tr['summary']['timings']) == ({'en': 1.0}, 0.5, {'train': 1.5})


def test_configs(flow):
    pre, tr = flow['runs']
    assert pre['config']['accounts'] == ['alice'] and pre['config']['seed'] == 7 and pre['config']['epochs'] == 4
    assert tr['config']['versions']['huggingtweets'] == track.versions()['huggingtweets']
    assert tr['config']['versions']['torch'] and tr['config']['versions']['transformers']
    assert {k: tr['config'][k] for k in ('base_model', 'base_model_local', 'block_size', 'max_steps', 'learning_rate')} == \
           dict(base_model='tiny', base_model_local=True, block_size=64, max_steps=3, learning_rate=1.372e-4) # no local paths
    assert pre['config']['specs'] == ['file:alice.txt']
    assert tr['config']['input_artifacts'] == ['raw-alice', 'train-alice']
    assert str(flow['tmp']) not in json.dumps(pre['config']) + json.dumps(tr['config'])


def _staged(flow): return [f for f in (flow['tmp']/'wb-data').rglob('*') if f.is_file()]


def test_dataset_artifact_is_public(flow):
    "The logged dataset.json (in W&B's staging folder) holds the public spec, and no local avatar"
    staged = [json.loads(f.read_text()) for f in _staged(flow) if f.read_bytes().startswith(b'{\n  "name"')]
    staged = [d for d in staged if 'train_chars' in d]
    assert len(staged) == 1 and [(a['spec'], a['avatar']) for a in staged[0]['accounts']] == [('file:alice.txt', '')]


def test_no_local_path_in_staged_files(flow):
    "What W&B stages for upload names no folder of this machine: the raw posts' header has the public spec and no local avatar"
    tmp = str(flow['tmp']).encode()
    staged = _staged(flow)
    assert len(staged) > 10
    fct.test_eq([str(f) for f in staged if tmp in f.read_bytes()], [])
    raw = [f for f in staged if f.read_bytes().startswith(b'{"account": ')]
    fct.test_eq(len(raw), 1)
    lines = raw[0].read_text().splitlines()
    head = json.loads(lines[0])['account']
    fct.test_eq((head['handle'], head['spec'], head['identity'], head['avatar']), ('alice', 'file:alice.txt', 'file:alice.txt', ''))
    cached = (_cache(flow['tmp'])/CACHE_NAME).read_text().splitlines()
    fct.test_eq(lines[1:], cached[1:]) # the posts as cached
    assert json.loads(cached[0])['account']['spec'] == f"file:{flow['tmp']}/alice.txt" # the cache itself is untouched


def encodings(secret:str)->set[bytes]:
    "`secret` raw, percent-encoded, JSON-escaped, in hexadecimal, and in base64 (standard and URL-safe) at each of the 3 alignments"
    s = secret.encode()
    out = {s, quote(secret, safe='').encode(), quote_plus(secret).encode(), json.dumps(secret)[1:-1].encode(), s.hex().encode(), s.hex().upper().encode()}
    for k in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            b = enc(b'\0' * k + s).rstrip(b'=')
            cut = (4 * k + 2) // 3  # characters that also encode the padding bytes
            out.add(b[cut:len(b) - 3])  # the stretch that depends on the secret alone
    return out


def test_encodings_find_what_they_should():
    "The scan below can fail: each form of a secret is found in text that holds it"
    s = 'hf_secret_token_456'
    for text in (f'x{s}y', quote(f'a={s}'), base64.b64encode(f'key {s}!'.encode()).decode(), base64.b64encode(f'ke{s}'.encode()).decode(),
                 base64.urlsafe_b64encode(f'k{s}..'.encode()).decode(), f'{s}'.encode().hex()):
        assert any(e in text.encode() for e in encodings(s)), text
        assert mask_secrets(text, [s]) != text, text  # and the library's mask hides each of them
    assert not any(e in b'nothing to see here, hf_secret_token_45' for e in encodings(s))


def test_no_secret_in_any_file(flow):
    "Neither the W&B key nor the other tokens from the environment, nor the git remote's token, reach a file: raw or encoded"
    secrets = {v: encodings(v) for v in list(SECRETS.values()) + [GIT_SECRET]}
    files = [f for f in flow['tmp'].rglob('*') if f.is_file() and (flow['tmp']/'repo') not in f.parents]
    assert len(files) > 20
    leaks = [(str(f), s) for f in files for s, forms in secrets.items() if any(e in f.read_bytes() for e in forms)]
    assert leaks == []
    text = [f for f in files if f.suffix in ('.json', '.jsonl', '.txt', '.log', '.md', '.wandb')]
    assert [str(f) for f in text if mask_secrets(f.read_bytes().decode('latin-1'), list(secrets)) != f.read_bytes().decode('latin-1')] == []


def _wandb_files(flow):
    "Every file W&B wrote: the run folders, its staging, cache and config folders"
    return [f for d in ('runs', 'wb-data', 'wb-cache', 'wb-config', 'wb-artifacts') for f in (flow['tmp']/d).rglob('*') if f.is_file()]


def test_no_git_remote_user_or_cwd(flow):
    "W&B records no git remote (it holds a token here), no user name and no current folder: not in its metadata, not in any file"
    if not flow['git']: pytest.skip('git is not installed')
    cwd = str(flow['tmp']/'repo').encode()
    for f in _wandb_files(flow):
        b = f.read_bytes()
        assert GIT_SECRET.encode() not in b and b'github.com/x/y' not in b and FAKE_USER.encode() not in b and cwd not in b, f
    for d in flow['dirs']:
        meta = d/'files'/'wandb-metadata.json'
        if meta.exists():
            m = json.loads(meta.read_text())
            assert not {'git', 'username', 'email', 'host', 'root', 'program', 'codePath', 'args'} & set(m), m
        run = next(r.run for r in run_records(d) if r.WhichOneof('record_type') == 'run')
        assert (run.git.remote_url, run.git.commit) == ('', '')
        assert not [r for r in run_records(d) if r.WhichOneof('record_type') in ('metadata', 'environment')]
    user = getpass.getuser()
    assert all(user not in json.dumps(r['config']) for r in flow['runs'])


def test_no_host_name(flow):
    host = socket.gethostname()
    for d in flow['dirs']:
        run = next(r.run for r in run_records(d) if r.WhichOneof('record_type') == 'run')
        assert run.host == '', run.host
    if len(host) >= 6:  # a short name would match by chance in binary files
        assert [str(f) for f in _wandb_files(flow) if host.encode() in f.read_bytes()] == []


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
    (d,) = offline_runs(t)
    r = read_offline_run(d)
    assert r['exit_code'] == 1 and r['history'][0]['x'] == 1


def test_disabled_is_a_noop(tmp_path, monkeypatch):
    _wandb_env(monkeypatch, tmp_path)
    ds = _dataset(tmp_path)
    t = track.Tracking('disabled', dir=tmp_path/'runs')
    t0 = time.perf_counter()
    assert track.log_preprocess(t, ds, tmp_path/'data') == ({}, None)
    with track.train_run(t, ds, TrainConfig(base_model='gpt2')) as run:
        assert run is None
        assert track.metrics_callbacks(run) == [] and track.run_links(run, 'train') == {} and track.run_folder(run) is None
        track.log_base_model(run, 'gpt2'); track.log_result(run, None); track.log_finetuned(run, tmp_path, None)
        track.log_predictions(run, 'a', ['b']); track.log_copies(run, None)
    assert time.perf_counter() - t0 < 0.5
    assert not (tmp_path/'runs').exists() and not (tmp_path/'wb-data').exists()


def test_missing_cache_warns(tmp_path, monkeypatch):
    _wandb_env(monkeypatch, tmp_path)
    ds = _dataset(tmp_path)
    t = track.Tracking('offline', dir=tmp_path/'runs', quiet=True)
    with pytest.warns(UserWarning, match='No cached posts of @alice'): track.log_preprocess(t, ds, tmp_path/'elsewhere')
    (d,) = offline_runs(t)
    assert [a['type'] for a in read_offline_run(d)['artifacts']] == ['train-dataset']


def test_hub_base_model_is_a_reference(tmp_path, monkeypatch):
    "A Hub id is recorded without downloading anything (this machine is offline)"
    _wandb_env(monkeypatch, tmp_path)
    t = track.Tracking('offline', dir=tmp_path/'runs', quiet=True)
    with track.tracked_run(t, 'train', 'x') as run: track.log_base_model(run, 'openai-community/gpt2')
    (a,) = read_offline_run(offline_runs(t)[0])['artifacts']
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


def test_saved_logins_are_masked_by_default(tmp_path, monkeypatch):
    "A key saved by `wandb login` (netrc) or a token saved by `hf auth login` is hidden like one in the environment"
    import base64
    from huggingtweets.core import mask_secrets
    key, tok = 'a1b2c3d4' * 5, 'hf_savedTokenABCDEF123'
    (tmp_path/'.netrc').write_text(f'machine api.wandb.ai\n  login user\n  password {key}\n')
    (tmp_path/'hf').mkdir(); (tmp_path/'hf'/'token').write_text(tok)
    for k in ('WANDB_API_KEY', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'X_BEARER_TOKEN', 'NETRC', 'WANDB_BASE_URL', 'HF_TOKEN_PATH'): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('HOME', str(tmp_path)); monkeypatch.setenv('HF_HOME', str(tmp_path/'hf'))
    said = f"Authorization: Basic {base64.b64encode(f'api:{key}'.encode()).decode()} key={key} hub={tok}"
    assert mask_secrets(said) == 'Authorization: Basic *** key=*** hub=***'
    assert track.has_wandb_key()


def test_artifacts_take_only_the_folders_own_files(tmp_path, monkeypatch):
    "A model or base folder holding a link to /etc/passwd and a linked folder: the W&B artifacts get its regular files alone, and a note"
    wandb_env(monkeypatch, tmp_path)
    m = make_tiny_model(tmp_path/'base')
    (tmp_path/'outside').mkdir()
    (tmp_path/'outside'/'secret.txt').write_text('OUTSIDE')
    (m/'notes.txt').symlink_to('/etc/passwd')
    (m/'more').symlink_to(tmp_path/'outside', target_is_directory=True)
    (m/'predictions').mkdir(); (m/'predictions'/'a.png').write_bytes(b'png')
    with pytest.warns(UserWarning, match=r'Left out more, notes.txt: .* not logged to W&B'):
        art = track.model_artifact(object(), 'x', m)
    fct.test_eq(sorted(art.manifest.entries), sorted(p.name for p in m.iterdir() if p.is_file() and not p.is_symlink()))
    for e in art.manifest.entries.values(): assert Path(e.local_path).read_bytes() != Path('/etc/passwd').read_bytes()
