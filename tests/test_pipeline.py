"Where a model goes on the Hub, and the whole pipeline end to end on a tiny model: the folder it writes, its record and card, its W&B runs, and what a failure leaves."
import json, shutil
from pathlib import Path
import pytest
from huggingtweets.card import md_text
from util import wandb_env
from huggingface_hub import ModelCard
from huggingtweets.core import Account, Post, UserError
from huggingtweets.clean import curate
from huggingtweets.dataset import make_dataset
from huggingtweets.hub import PushTo
from huggingtweets.pipeline import train_and_publish, publish, RunResult
from huggingtweets.record import ModelRecord, RECORD
from huggingtweets.train import TrainConfig, make_tiny_model
from wandb_offline import read_offline_run

PROMPT = 'My dream is'


class FakeHub:
    token = 'hf_SECRET_TOKEN_123'
    def whoami(self): return {'name': 'me'}


class FakeApi(FakeHub):
    "Records the upload: the repository and the names in the folder"
    def __init__(self): self.calls = []
    def create_repo(self, repo_id, **kw): self.calls.append(('create_repo', repo_id)); return f'https://huggingface.co/{repo_id}'
    def upload_folder(self, folder_path, repo_id, **kw): self.calls.append(('upload_folder', repo_id, kw['ignore_patterns']))


def test_push_target_hides_its_token():
    p = PushTo('me/x', token='hf_SECRET_TOKEN_123')
    assert 'hf_SECRET' not in repr(p)


def test_bad_repo_id_fails_before_training(tmp_path):
    p = PushTo('me/bad--name', api=FakeHub())
    with pytest.raises(UserError, match='not a Hub repository id'):
        p.resolve('x')
    with pytest.raises(UserError, match='not a Hub repository id'):  # the pipeline checks it before anything else: no W&B run, no training
        train_and_publish(_dataset(), tmp_path/'out', TrainConfig(base_model=str(tmp_path/'no-such-model')), wandb='offline',
                          push=PushTo('me/bad--name', api=FakeHub()), wandb_dir=tmp_path/'runs', progress=False)
    assert list(tmp_path.iterdir()) == []


def test_default_repo_id_is_the_token_owners():
    assert PushTo(api=FakeHub()).resolve('jack') == 'me/jack'


def _dataset():
    posts = [Post(f'My dream is number {i}: to write a bot that tweets about {w}.') for i, w in enumerate(['cats', 'dogs', 'GPUs', 'tea'] * 40)]
    with pytest.warns(UserWarning, match='characters of kept posts'):  # too little data to learn much, and it says so
        return make_dataset([curate(Account('jack', 'x', posts, 'Jack'))], epochs=2, seed=0)


_wandb_env = wandb_env


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "One whole run on a tiny model, W&B offline into tmp"
    tmp = tmp_path_factory.mktemp('pipeline')
    with pytest.MonkeyPatch.context() as mp:
        _wandb_env(mp, tmp)
        ds = _dataset()
        cfg = TrainConfig(base_model=str(make_tiny_model(tmp/'tiny')), block_size=64, max_steps=8, learning_rate=3e-3, loop='fast') # a GPU user's loop, eager here
        with pytest.warns(UserWarning, match='No cached posts of @jack'):  # posts made here, not fetched: no raw-dataset artifact
            r = train_and_publish(ds, tmp/'models'/ds.name, cfg, wandb='offline', data_dir=tmp/'data', prompt=PROMPT, n=2, memo_n=4,
                                  progress=False, wandb_dir=tmp/'runs')
        yield dict(tmp=tmp, ds=ds, cfg=cfg, r=r)


def test_the_folder(run):
    r, ds = run['r'], run['ds']
    assert isinstance(r, RunResult) and r.folder == run['tmp']/'models'/'jack'
    names = {p.name for p in r.folder.iterdir()}
    assert {'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', RECORD, 'README.md', 'training-posts.txt'} <= names
    assert not [n for n in names if '.tmp-' in n or '.old-' in n]  # no temporary file left inside
    assert [p.name for p in r.folder.parent.iterdir()] == ['jack']  # nor beside it
    assert (r.folder/'training-posts.txt').read_text(encoding='utf-8').splitlines() == list(dict.fromkeys(ds.train_texts))
    gen = json.loads((r.folder/'generation_config.json').read_text())
    assert (gen['do_sample'], gen['top_p'], gen['max_length']) == (True, 0.95, 160)


def test_the_record(run):
    r, ds = run['r'], run['ds']
    rec = ModelRecord.load(r.folder)
    assert rec.name == 'jack' and [a.handle for a in rec.accounts] == ['jack'] and rec.accounts[0].stats.kept == ds.info.accounts[0].stats.kept
    assert rec.license is None and rec.base_local and rec.repo_id is None and rec.url is None  # a local base: licence unknown
    assert rec.train.config['base_model'] == 'tiny' and rec.train.steps == 8 and rec.train.valid_loss > 0
    assert (rec.train.loop, rec.train.loop_note, rec.train.config['loop']) == ('eager', '', 'fast')
    assert {'W&B data', 'train', 'predictions', 'memorization'} <= set(rec.timings) and all(v >= 0 for v in rec.timings.values())
    assert rec.timings['train'] > 0
    assert rec.languages and rec.languages[0][0] == 'en' and all(0 <= s <= 1 for _, s in rec.languages)
    m = rec.memorization
    assert m['n'] == 4 and 0 <= m['share'] <= 1 and 'copies' not in m  # the copies' texts stay in memory and in W&B
    assert rec.versions['huggingtweets'] and rec.versions['torch']
    assert str(run['tmp']) not in (r.folder/RECORD).read_text(encoding='utf-8')  # no local path in the record
    assert r.record.name == rec.name and r.train is r.record.train and r.model_id == str(r.folder) and r.url is None


def test_the_card(run):
    r = run['r']
    card = ModelCard.load(r.folder/'README.md')
    assert card.data.base_model is None and 'base_model' not in str(card).split('---')[1] and card.data.license is None
    assert card.data.language == ['en'] and card.data.tags == ['huggingtweets']
    assert [e.metric_type for e in card.data.eval_results] == ['loss', 'perplexity']
    assert f"model={r.folder.name!r}" in card.content and str(r.folder.parent) not in card.content  # the folder until pushed, without a path of this machine
    assert 'tracked with W&B in offline mode' in card.content and 'wandb.ai/' not in card.content.split('## Training data')[1]
    assert "Of 4 tweets the model wrote" in card.content and 'pre-trained tiny which' in card.content
    assert r.record.samples == [p for p, c in zip(r.predictions, r.copies) if c is None] and r.record.samples  # the first predictions that copy nothing
    assert '## Posts it wrote' in card.content and all(md_text(p) in card.content for p in r.record.samples)


def test_it_generates(run):
    from transformers import pipeline
    gen = pipeline('text-generation', model=str(run['r'].folder))
    out = gen(PROMPT, max_new_tokens=8, num_return_sequences=2)
    assert len(out) == 2 and all(o['generated_text'].startswith(PROMPT) for o in out)
    assert gen.model.generation_config.top_p == 0.95
    r = run['r']
    assert len(r.predictions) == 2 and all(isinstance(p, str) for p in r.predictions) and len(r.copies) == 2
    assert r.prompt == PROMPT and r.model is not None and len(r.model) == 2


def test_wandb_dirs(run):
    r = run['r']
    assert len(r.wandb_dirs) == 2 and all(d.parent == (run['tmp']/'runs'/'wandb').resolve() and d.name.startswith('offline-run-') for d in r.wandb_dirs)
    runs = [read_offline_run(d) for d in r.wandb_dirs]
    assert [(x['job_type'], x['exit_code']) for x in runs] == [('preprocess', 0), ('train', 0)]
    ids = [d.name.rsplit('-', 1)[1] for d in r.wandb_dirs]
    assert r.record.wandb == {'mode': 'offline', 'project': 'huggingtweets', 'runs': {'preprocess': ids[0], 'train': ids[1]}}
    assert ModelRecord.load(r.folder).wandb == r.record.wandb
    tr = runs[1]
    assert {'finetuned-model', 'pretrained-model'} <= {a['type'] for a in tr['artifacts']}
    model = next(a for a in tr['artifacts'] if a['type'] == 'finetuned-model')  # the weights, added while the model wrote posts, and the rest
    assert {'model.safetensors', 'config.json', 'huggingtweets.json', 'README.md'} <= set(model['files']) and 'training-posts.txt' not in model['files']
    assert tr['summary']['valid_loss'] == pytest.approx(r.train.valid_loss) and tr['summary']['loop'] == 'eager'


def test_publish_after_training(run, tmp_path, monkeypatch):
    "A trained folder, pushed later: the card and the record name the repository, and local files stay local"
    from huggingtweets import track
    monkeypatch.setattr(track, 'has_wandb_key', lambda env=None: False)
    folder = shutil.copytree(run['r'].folder, tmp_path/'jack')
    api = FakeApi()
    assert publish(folder, PushTo(api=api)) == 'https://huggingface.co/me/jack'
    assert api.calls[0] == ('create_repo', 'me/jack') and 'training-posts.txt' in api.calls[1][2]
    rec = ModelRecord.load(folder)
    assert (rec.repo_id, rec.url) == ('me/jack', 'https://huggingface.co/me/jack') and rec.wandb == run['r'].record.wandb
    assert "model='me/jack'" in ModelCard.load(folder/'README.md').content


def _snapshot(folder): return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob('*')) if p.is_file()}


class Boom(Exception): pass


def test_a_failure_leaves_the_previous_model(run, tmp_path, monkeypatch):
    "A failure during training, or while the folder is written, leaves the model that was there byte for byte, and no temporary folder"
    from transformers import TrainerCallback
    from huggingtweets import pipeline as pl
    out = shutil.copytree(run['r'].folder, tmp_path/'models'/'jack')
    before = _snapshot(out)
    class Fail(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step >= 2: raise Boom('in training')
    with pytest.raises(Boom, match='in training'):
        train_and_publish(run['ds'], out, run['cfg'], wandb='disabled', n=0, memo_n=0, callbacks=[Fail()], progress=False)
    assert _snapshot(out) == before and [p.name for p in out.parent.iterdir()] == ['jack']
    def fail_card(folder, *a, **kw):
        (Path(folder)/'README.md').write_text('half')
        raise Boom('in the card')
    monkeypatch.setattr(pl, 'write_card', fail_card)
    with pytest.raises(Boom, match='in the card'):
        train_and_publish(run['ds'], out, run['cfg'], wandb='disabled', n=0, memo_n=0, progress=False)
    assert _snapshot(out) == before and [p.name for p in out.parent.iterdir()] == ['jack']


HUB_GPT2 = Path(__file__).parent/'fixtures'/'hub'/'gpt2_model_info.json'  # the shape of the Hub's answer to GET /api/models/openai-community/gpt2?blobs=true (trimmed)


def test_a_hub_base_is_sized_from_the_hubs_listing(server, tmp_path, monkeypatch):
    "Online, a Hub base's weights are sized from the Hub's file listing (its safetensors, or 4 bytes a parameter where the Hub counts more): too little disk is one sentence before training"
    from fakeserver import reply
    from huggingface_hub import HfApi, constants
    from huggingtweets import pipeline
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', False)  # the requests go to the local stand-in only
    info = json.loads(HUB_GPT2.read_text())
    server.on('GET', '/api/models/openai-community/gpt2', reply(info))
    bf16 = info | {'id': 'me/bf16', 'safetensors': {'parameters': {'BF16': 500_000_000}, 'total': 500_000_000},
                   'siblings': [{'rfilename': 'model.safetensors', 'size': 1_000_000_000, 'lfs': {'sha256': '0' * 64, 'size': 1_000_000_000, 'pointerSize': 135}}]}
    server.on('GET', '/api/models/me/bf16', reply(bf16))
    hub = HfApi(endpoint=server.url)
    assert pipeline.hub_weights_size('openai-community/gpt2', hub) == 548105171  # model.safetensors alone: not the .bin, .h5, .onnx or .msgpack
    assert server.got()[-1].param('blobs') in ('True', 'true')  # the listing with the files' sizes
    assert pipeline.hub_weights_size('me/bf16', hub) == 2_000_000_000  # saved in float32: twice its bf16 file
    assert pipeline.hub_weights_size('nobody/nothing', hub) == 0  # the Hub does not know it: training will say so
    free = {'n': 300 << 20}
    monkeypatch.setattr(pipeline.shutil, 'disk_usage', lambda p: shutil._ntuple_diskusage(10 << 30, 10 << 30, free['n']))
    with pytest.raises(UserError, match=r'has 0\.3 GiB free, and the model.s weights need about 0\.5 GiB'):
        pipeline.check_before_training(tmp_path/'m', 'openai-community/gpt2', hub)
    free['n'] = 10 << 30
    pipeline.check_before_training(tmp_path/'m', 'openai-community/gpt2', hub)  # enough room
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', True)
    n = len(server.got())
    free['n'] = 1 << 20
    pipeline.check_before_training(tmp_path/'m', 'openai-community/gpt2', hub)  # offline: the Hub is not asked, and nothing is known
    assert len(server.got()) == n


def test_a_hostile_hub_listing_sizes_nothing(server, monkeypatch):
    "A Hub answer of another shape (sizes as text, negative, no siblings), HTML, or one that never ends: nothing is sized, nothing raised, and the wait is bounded"
    import threading
    from fakeserver import reply
    from huggingface_hub import HfApi, constants
    from huggingtweets import pipeline
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', False)
    info = json.loads(HUB_GPT2.read_text())
    server.on('GET', '/api/models/a/text', reply(info | {'siblings': [{'rfilename': 'model.safetensors', 'size': '548105171'}], 'safetensors': {'parameters': {}, 'total': 'many'}}))
    server.on('GET', '/api/models/a/negative', reply(info | {'siblings': [{'rfilename': 'model.safetensors', 'size': -5}], 'safetensors': None}))
    server.on('GET', '/api/models/a/html', reply('<html>Sign in</html>', headers={'Content-Type': 'text/html'}))
    stop, answered = threading.Event(), threading.Event()
    def slow(r):
        stop.wait(60)
        answered.set()
        return reply(info)
    server.on('GET', '/api/models/a/slow', slow)  # answers only once the test lets it
    hub = HfApi(endpoint=server.url)
    for repo in ('a/text', 'a/negative', 'a/html'): assert pipeline.hub_weights_size(repo, hub) == 0, repo
    assert pipeline.hub_weights_size('a/slow', hub, deadline=1) == 0
    assert not answered.is_set()  # it gave up waiting: the Hub had not answered yet
    stop.set()
