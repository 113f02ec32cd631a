"Publishing to the Hub through a stand-in `HfApi` that records its calls and answers with huggingface_hub's own errors."
from fnmatch import fnmatchcase
from pathlib import Path
import httpx2  # huggingface_hub 2.x's HTTP library: its errors wrap these responses
import pytest
import fastcore.test as fct
from huggingface_hub import ModelCard
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import hf_raise_for_status, filter_repo_objects
from huggingface_hub.hf_api import DEFAULT_IGNORE_PATTERNS
from huggingtweets import hub, track
from huggingtweets.card import write_card
from huggingtweets.clean import Stats
from huggingtweets.core import UserError, leaving_files
from huggingtweets.dataset import AccountInfo, DatasetInfo, PostsDataset
from huggingtweets.hub import PushTo, resolve_token, upload, upload_dataset, NO_TOKEN, LOCAL_ONLY
from huggingtweets.pipeline import publish
from huggingtweets.record import LOCAL
from huggingtweets.record import ModelRecord, RECORD
from huggingtweets.train import TrainResult

SECRET = 'hf_SECRET123'
WANDB = dict(train='https://wandb.ai/me/huggingtweets/runs/abc')
SHIPPED = {'README.md', 'config.json', 'model.safetensors', RECORD}  # what goes up; the model folder holds more (see `model`)


def http_error(status, url='https://huggingface.co/api/repos/create', body=None, headers=None):
    "The exception huggingface_hub raises when the Hub answers `status`, built the way it builds them"
    r = httpx2.Response(status, request=httpx2.Request('POST', url), json=body or {'error': 'no'}, headers=headers or {})
    with pytest.raises(HfHubHTTPError) as e: hf_raise_for_status(r)
    return e.value


def would_upload(folder, ignore_patterns, allow_patterns=None):
    "The files of `folder` and their bytes as `HfApi.upload_folder` sends them: its own listing (`glob('**/*')`, links followed) and filter"
    root = Path(folder).expanduser().resolve()
    listed = {p.relative_to(root).as_posix(): p for p in sorted(root.glob('**/*')) if p.is_file()}
    keep = filter_repo_objects(listed, allow_patterns=allow_patterns, ignore_patterns=list(ignore_patterns or []) + DEFAULT_IGNORE_PATTERNS)
    return {r: listed[r].read_bytes() for r in keep}


class FakeApi:
    "Records whoami/create_repo/upload_folder, snapshots what would be uploaded, raises `fail[name]` when told to"
    def __init__(self, user='alice', token=None, fail=None):
        self.user, self.token, self.fail, self.calls, self.uploaded = user, token, fail or {}, [], None

    def _call(self, name, *args, **kw):
        self.calls.append((name, args, kw))
        if name in self.fail: raise self.fail[name]

    def whoami(self, *a, **kw):
        self._call('whoami', *a, **kw)
        return {'name': self.user, 'type': 'user'}

    def create_repo(self, repo_id, **kw):
        self._call('create_repo', repo_id, **kw)
        return f'https://huggingface.co/{repo_id}'

    def upload_folder(self, **kw):
        self.uploaded = would_upload(kw['folder_path'], kw.get('ignore_patterns'), kw.get('allow_patterns'))  # before a failure: what was on disk at the upload
        self._call('upload_folder', **kw)


class FakeSplits:
    "Stands in for the dataset's `DatasetDict`: records `push_to_hub`"
    def __init__(self, fail=None): self.calls, self.fail = [], fail
    def push_to_hub(self, repo_id, **kw):
        self.calls.append((repo_id, kw))
        if self.fail: raise self.fail


def karpathy_record(**kw):
    st = Stats('karpathy', 'Andrej Karpathy', 'x', 3200, 300, 400, 2500, 200_000, languages=[['en', 1.0]])
    info = DatasetInfo('karpathy', [AccountInfo('karpathy', 'Andrej Karpathy', 'x', 'karpathy', st, 'https://pbs.twimg.com/k.jpg', 2250, 250)], 1, 4, 0.1)
    res = TrainResult(2.8, 3.0, 2.9, 4.1, 20.1, 100, 102_400, 10.0, 'cpu', 'trainer', config=dict(base_model='gpt2'))
    return ModelRecord(info, res, **(dict(wandb=WANDB, license='mit', languages=[['en', 1.0]]) | kw))


@pytest.fixture
def model(tmp_path):
    "A model folder as the pipeline leaves it: weights (stood in for), config, record, a card for its local folder, and files that stay local"
    m = tmp_path/'karpathy'
    m.mkdir()
    (m/'config.json').write_text('{"model_type": "gpt2"}')
    (m/'model.safetensors').write_bytes(b'\0' * 64)
    rec = karpathy_record()
    rec.save(m)
    write_card(m, rec, str(m))
    (m/'training-posts.txt').write_text('a post\n')
    (m/'predictions').mkdir()
    (m/'predictions'/'2024-01-01.json').write_text('[]')
    (m/'.hidden').write_text('local')
    (m/LOCAL).write_text('{"data_dir": "/home/me/data"}')  # where the posts came from, on this machine
    (m/'sub').mkdir()
    (m/'sub'/'.notes').write_text('local')
    return m


def on_disk(folder): return {n: (Path(folder)/n).read_bytes() for n in ('README.md', RECORD)}


@pytest.fixture
def no_login(monkeypatch):
    "No token anywhere: not in the environment, not saved by `hf auth login`"
    monkeypatch.delenv('HF_TOKEN', raising=False)
    monkeypatch.setattr(hub, 'get_token', lambda: None)


def test_publish_renders_the_card_then_uploads(model):
    api = FakeApi()
    url = publish(model, PushTo(token=SECRET, api=api))
    assert url == 'https://huggingface.co/alice/karpathy'  # the token owner's namespace, the model's name
    assert [c[0] for c in api.calls] == ['whoami', 'create_repo', 'upload_folder']
    assert api.calls[1] == ('create_repo', ('alice/karpathy',), dict(private=False, exist_ok=True, repo_type='model'))
    up = api.calls[2][2]
    assert (Path(up['folder_path']), up['repo_id'], up['repo_type']) == (model, 'alice/karpathy', 'model') and up['commit_message']
    readme = api.uploaded['README.md'].decode()
    assert "model='alice/karpathy')" in readme and f"model={str(model)!r})" not in readme  # rendered again before the upload
    assert str(model) not in readme  # the local folder the card named before is gone
    assert WANDB['train'] in readme  # the W&B links recorded with the model survive
    card = ModelCard(readme)
    assert card.data.base_model == 'openai-community/gpt2' and card.data.license == 'mit' and card.data.datasets is None
    assert ModelCard.load(model/'README.md').content == card.content
    rec = ModelRecord.load(model)  # the record is brought up to date too, and goes up with the model
    assert (rec.repo_id, rec.url, rec.wandb) == ('alice/karpathy', url, WANDB)
    assert ModelRecord.from_dict(__import__('json').loads(api.uploaded[RECORD])).repo_id == 'alice/karpathy'


def test_local_files_stay_local(model):
    "predictions/, training-posts.txt and hidden files are on disk, and are not uploaded"
    api = FakeApi()
    publish(model, PushTo(token=SECRET, api=api))
    patterns = api.calls[-1][2]['ignore_patterns']
    assert {'predictions/*', 'training-posts.txt'} <= set(patterns)
    assert set(api.uploaded) == SHIPPED
    assert all((model/p).exists() for p in ('training-posts.txt', 'predictions/2024-01-01.json', '.hidden', 'sub/.notes', LOCAL))
    for local in ('training-posts.txt', 'predictions/2024-01-01.json', 'predictions/sub/x.json', '.hidden', '.git/config', 'sub/.notes', 'sub/.cache/x', LOCAL):
        assert any(fnmatchcase(local, p) for p in patterns), local
    for shipped in ('README.md', 'config.json', 'avatar-karpathy.jpg', 'thumbnail.png', 'tokenizer.json', 'sub/model-00001.safetensors'):
        assert not any(fnmatchcase(shipped, p) for p in patterns), shipped


def test_repo_ids(model):
    api = FakeApi()
    assert publish(model, PushTo('org/bot', token=SECRET, api=api)) == 'https://huggingface.co/org/bot'
    assert [c[0] for c in api.calls] == ['whoami', 'create_repo', 'upload_folder']  # the token is checked first, for a full id too
    assert "model='org/bot')" in api.uploaded['README.md'].decode()
    assert publish(model, PushTo('mybot', token=SECRET, api=FakeApi(user='bob'))) == 'https://huggingface.co/bob/mybot'
    assert PushTo(token=SECRET, api=FakeApi(user='carol')).resolve('a-b') == 'carol/a-b'
    api = FakeApi()
    publish(model, PushTo('org/private-bot', token=SECRET, api=api, private=True), commit_message='hello')
    calls = {c[0]: c[2] for c in api.calls}
    assert calls['create_repo']['private'] is True and calls['upload_folder']['commit_message'] == 'hello'


BAD_IDS = ['a/b/c', 'me/bad--name', 'me/-x']


@pytest.mark.parametrize('bad', BAD_IDS)
def test_bad_repo_id(bad):
    with pytest.raises(UserError, match='not a Hub repository id'): PushTo(bad, token=SECRET, api=FakeApi()).resolve('x')


@pytest.mark.parametrize('bad', BAD_IDS)
def test_publish_checks_the_repo_id(model, bad):
    api, before = FakeApi(), on_disk(model)
    with pytest.raises(UserError, match='not a Hub repository id'): publish(model, PushTo(bad, token=SECRET, api=api))
    assert api.calls == [] and on_disk(model) == before


def test_resolve_token(monkeypatch, no_login):
    assert resolve_token() is None
    monkeypatch.setattr(hub, 'get_token', lambda: 'hf_saved')
    assert resolve_token() == 'hf_saved'
    monkeypatch.setenv('HF_TOKEN', 'hf_env')
    assert resolve_token() == 'hf_env'
    assert resolve_token('hf_arg') == 'hf_arg'


def test_no_token(model, no_login, monkeypatch):
    monkeypatch.setattr(hub, 'HfApi', lambda *a, **kw: pytest.fail('an HfApi was made without a token'))
    with pytest.raises(UserError) as e: publish(model, PushTo())  # before any network: no HfApi is made
    assert str(e.value) == NO_TOKEN and 'hf auth login' in NO_TOKEN and 'HF_TOKEN' in NO_TOKEN
    api = FakeApi()
    with pytest.raises(UserError, match='No Hugging Face token'): publish(model, PushTo(api=api))
    with pytest.raises(UserError, match='No Hugging Face token'): publish(model, PushTo('org/bot', api=api))
    assert api.calls == []
    assert publish(model, PushTo(api=FakeApi(token='hf_in_api'))).endswith('/alice/karpathy')  # an api that holds its own token will do


def test_no_token_for_a_folder_without_a_record(tmp_path, no_login):
    (tmp_path/'config.json').write_text('{}')
    api = FakeApi()
    with pytest.raises(UserError, match='No Hugging Face token'): publish(tmp_path, PushTo(api=api))
    assert api.calls == []


def test_no_token_for_a_folder_without_a_record_and_a_full_id(tmp_path, no_login):
    (tmp_path/'config.json').write_text('{}')
    api = FakeApi()
    with pytest.raises(UserError, match='No Hugging Face token'): publish(tmp_path, PushTo('org/bot', api=api))
    assert api.calls == []


@pytest.mark.parametrize('step,err,says', [
    ('whoami', lambda: http_error(401, 'https://huggingface.co/api/whoami-v2', {'error': f'Invalid credentials {SECRET}'}), 'refused the token (HTTP 401)'),
    ('create_repo', lambda: http_error(403, body={'error': f"You don't have the rights to create a model under this namespace ({SECRET})"}), 'lacks write access'),
    ('upload_folder', lambda: http_error(401, 'https://huggingface.co/api/models/alice/karpathy/preupload/main', headers={'X-Error-Code': 'RepoNotFound'}), 'refused the token'),
    ('upload_folder', lambda: http_error(500, body={'error': f'boom {SECRET}'}), 'HTTP 500'),
    ('create_repo', lambda: ConnectionError(f'no route to host for {SECRET}'), 'Could not reach the Hugging Face Hub'),
    ('upload_folder', lambda: httpx2.ConnectError('connection refused'), 'Could not reach the Hugging Face Hub'),
])
def test_errors_say_what_to_do_without_the_token(model, step, err, says):
    e, before = err(), on_disk(model)
    api = FakeApi(fail={step: e})
    with pytest.raises(UserError) as got: publish(model, PushTo(token=SECRET, api=api))
    msg = str(got.value)
    assert says in msg and SECRET not in msg and SECRET not in repr(got.value)
    assert got.value.__cause__ is None and got.value.__suppress_context__  # the Hub's own exception is not chained into the traceback
    if step != 'whoami' and isinstance(e, HfHubHTTPError): assert 'alice/karpathy' in msg
    if isinstance(e, HfHubHTTPError) and e.response.status_code in (401, 403): assert 'https://huggingface.co/settings/tokens' in msg
    assert on_disk(model) == before  # the record and the card change only when the upload succeeds
    if step == 'upload_folder': assert "model='alice/karpathy')" in api.uploaded['README.md'].decode()  # what was tried held the final id


def test_repository_not_found_is_a_token_problem(model):
    e = http_error(401, 'https://huggingface.co/api/models/alice/karpathy/preupload/main', headers={'X-Error-Code': 'RepoNotFound'})
    assert isinstance(e, RepositoryNotFoundError)
    with pytest.raises(UserError, match='lacks write access'): publish(model, PushTo(token=SECRET, api=FakeApi(fail={'upload_folder': e})))


def test_other_errors_propagate(model):
    before = on_disk(model)
    with pytest.raises(KeyError): publish(model, PushTo(token=SECRET, api=FakeApi(fail={'upload_folder': KeyError('bug')})))
    assert on_disk(model) == before
    with pytest.raises(KeyboardInterrupt): publish(model, PushTo(token=SECRET, api=FakeApi(fail={'upload_folder': KeyboardInterrupt()})))
    assert on_disk(model) == before


def test_not_a_model_folder(tmp_path):
    api = FakeApi()
    with pytest.raises(UserError, match='not a model folder'): publish(tmp_path, PushTo(token=SECRET, api=api))
    assert api.calls == []


def test_a_folder_without_huggingtweets_json_keeps_its_card(tmp_path):
    (tmp_path/'config.json').write_text('{}')
    (tmp_path/'README.md').write_text('my own card')
    api = FakeApi()
    assert publish(tmp_path, PushTo(token=SECRET, api=api)) == f'https://huggingface.co/alice/{tmp_path.name}'
    assert api.uploaded['README.md'] == b'my own card' and (tmp_path/'README.md').read_text() == 'my own card'
    assert not (tmp_path/RECORD).exists()


def test_upload_alone(model):
    "`hub.upload` sends the folder as it is: the card is the pipeline's business"
    api = FakeApi()
    push = PushTo('org/bot', token=SECRET, api=api)
    before = on_disk(model)
    assert upload(model, push, 'msg') == 'https://huggingface.co/org/bot'
    assert api.uploaded['README.md'] == before['README.md'] and set(api.uploaded) == SHIPPED and api.calls[-1][2]['commit_message'] == 'msg'


def test_upload_leaves_local_only_as_it_is(model, monkeypatch):
    "huggingface_hub's `upload_folder` extends the `ignore_patterns` list it is given, in place: the module's list must not be that list"
    from huggingface_hub import HfApi, constants
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', True)  # the real upload stops at its first request
    class Api(HfApi):
        def create_repo(self, repo_id, **kw): return f'https://huggingface.co/{repo_id}'
    monkeypatch.setattr(hub, 'LOCAL_ONLY', list(LOCAL_ONLY))  # the list this test may see changed is put back afterwards
    before = list(hub.LOCAL_ONLY)
    with pytest.raises(UserError, match='Could not reach'): upload(model, PushTo('org/bot', token=SECRET, api=Api(token=SECRET)))
    assert hub.LOCAL_ONLY == before


def test_dataset_is_pushed_and_listed(model):
    splits = FakeSplits()
    ds = PostsDataset(splits, None, karpathy_record().dataset)
    api = FakeApi()
    url = publish(model, PushTo(token=SECRET, api=api, dataset=True, private=True), dataset=ds)
    assert url == 'https://huggingface.co/alice/karpathy'
    assert splits.calls == [('alice/karpathy', dict(token=SECRET, private=True))]  # a dataset repository of the same id
    card = ModelCard(api.uploaded['README.md'].decode())
    assert card.data.datasets == ['alice/karpathy'] and {r.dataset_type for r in card.data.eval_results} == {'alice/karpathy'}
    assert ModelRecord.load(model).dataset_repo == 'alice/karpathy'
    assert ModelCard.load(model/'README.md').data.datasets == ['alice/karpathy']


def test_dataset_push_failures(model):
    before, api = on_disk(model), FakeApi()
    with pytest.raises(UserError, match='give the dataset folder'): publish(model, PushTo(token=SECRET, api=api, dataset=True))
    assert on_disk(model) == before and [c[0] for c in api.calls] == ['whoami']
    splits = FakeSplits(fail=http_error(403, 'https://huggingface.co/api/repos/create', {'error': f'no rights {SECRET}'}))
    with pytest.raises(UserError) as e:
        publish(model, PushTo(token=SECRET, api=FakeApi(), dataset=True), dataset=PostsDataset(splits, None, karpathy_record().dataset))
    assert 'lacks write access' in str(e.value) and SECRET not in str(e.value) and e.value.__cause__ is None
    assert on_disk(model) == before
    assert upload_dataset(FakeSplits(), PushTo('org/x', token=SECRET)) == 'org/x'


class FakeWandbApi:
    "Stands in for `wandb.Api`: knows the runs in `urls`, by path"
    default_entity = 'me'
    def __init__(self, urls): self.urls, self.asked = urls, []
    def run(self, path):
        self.asked.append(path)
        if path not in self.urls: raise ValueError(f'Could not find run {path}')
        return type('Run', (), dict(url=self.urls[path]))()


OFFLINE = {'mode': 'offline', 'project': 'huggingtweets', 'runs': {'preprocess': 'p1', 'train': 't1'}}
SYNCED = {'me/huggingtweets/p1': 'https://wandb.ai/me/huggingtweets/runs/p1', 'me/huggingtweets/t1': 'https://wandb.ai/me/huggingtweets/runs/t1'}


def test_synced_links_replace_offline_ones(tmp_path, monkeypatch):
    m = tmp_path/'karpathy'
    m.mkdir()
    (m/'config.json').write_text('{}')
    rec = karpathy_record(wandb=OFFLINE)
    rec.save(m)
    write_card(m, rec, str(m))
    assert 'offline' in (m/'README.md').read_text()
    wapi = FakeWandbApi(SYNCED)
    import wandb
    monkeypatch.setattr(track, 'has_wandb_key', lambda env=None: True)
    monkeypatch.setattr(wandb, 'Api', lambda *a, **kw: wapi)
    api = FakeApi()
    publish(m, PushTo(token=SECRET, api=api))
    assert sorted(wapi.asked) == sorted(SYNCED)
    readme = api.uploaded['README.md'].decode()
    assert '[W&B training run](https://wandb.ai/me/huggingtweets/runs/t1)' in readme
    assert '[Explore the data](https://wandb.ai/me/huggingtweets/runs/p1/artifacts)' in readme and 'offline mode' not in readme
    assert ModelRecord.load(m).wandb == {'preprocess': SYNCED['me/huggingtweets/p1'], 'train': SYNCED['me/huggingtweets/t1']}


def test_unsynced_links_stay_offline(model, monkeypatch):
    assert track.synced_links(OFFLINE, FakeWandbApi({})) == OFFLINE  # not synced yet
    assert track.synced_links(OFFLINE, FakeWandbApi({'me/huggingtweets/t1': SYNCED['me/huggingtweets/t1']})) == OFFLINE  # half synced
    assert track.synced_links(WANDB, FakeWandbApi(SYNCED)) == WANDB and track.synced_links({}, FakeWandbApi(SYNCED)) == {}
    monkeypatch.setattr(track, 'has_wandb_key', lambda env=None: False)
    rec = karpathy_record(wandb=OFFLINE)
    api = FakeApi()
    publish(model, PushTo(token=SECRET, api=api), record=rec)  # no W&B key: nothing to ask
    assert 'tracked with W&B in offline mode' in api.uploaded['README.md'].decode() and ModelRecord.load(model).wandb == OFFLINE


def test_secret_scan(model, monkeypatch):
    "After pushes with a token given and a token in the environment, no file in the folder holds it"
    monkeypatch.setenv('HF_TOKEN', 'hf_ENVSECRET456')
    publish(model, PushTo(token=SECRET, api=FakeApi()))
    publish(model, PushTo(api=FakeApi()))
    try: publish(model, PushTo(token=SECRET, api=FakeApi(fail={'upload_folder': http_error(403)})))
    except UserError: pass
    files = [p for p in model.rglob('*') if p.is_file()]
    assert {p.relative_to(model).as_posix() for p in files} == SHIPPED | {'training-posts.txt', 'predictions/2024-01-01.json', '.hidden', 'sub/.notes', LOCAL}
    for p in files: assert b'hf_SECRET123' not in p.read_bytes() and b'hf_ENVSECRET456' not in p.read_bytes(), p


def test_a_hub_that_answers_html(server, monkeypatch):
    "A proxy or login portal answering for the Hub with an HTML page (200 or 502): one sentence, never a JSON traceback"
    from huggingface_hub import HfApi
    from fakeserver import reply
    from huggingface_hub import constants
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', False) # the requests go to the local server only
    page = '<!doctype html><html><body>Sign in to the Wi-Fi</body></html>'
    server.on('GET', '/api/whoami-v2', reply(page, headers={'Content-Type': 'text/html'}))
    with pytest.raises(UserError, match=r'sent a page that is not the Hub.s API \(not JSON\)'):
        PushTo(token=SECRET, api=HfApi(endpoint=server.url, token=SECRET)).resolve('karpathy')
    server.on('GET', '/api/whoami-v2', reply({'unexpected': 'shape'}))
    with pytest.raises(UserError, match='not the Hub.s API'): PushTo(token=SECRET, api=HfApi(endpoint=server.url, token=SECRET)).resolve('karpathy')
    server.on('GET', '/api/whoami-v2', reply(page, 502, {'Content-Type': 'text/html'}))
    with pytest.raises(UserError, match='HTTP 502') as got: PushTo(token=SECRET, api=HfApi(endpoint=server.url, token=SECRET)).resolve('karpathy')
    assert SECRET not in str(got.value)


PASSWD = Path('/etc/passwd')


def test_links_in_the_folder_are_never_uploaded(model, tmp_path, recwarn):
    "A symlink to /etc/passwd, a symlinked folder and a FIFO in the model folder: the push leaves them out, with a note, and uploads the rest"
    import os
    outside = tmp_path/'outside'
    outside.mkdir()
    (outside/'secret.txt').write_bytes(b'OUTSIDE-SECRET')
    (model/'notes.txt').symlink_to(PASSWD)
    (model/'chat_template.jinja').symlink_to(outside/'secret.txt')  # a name a model folder may own, not needed to load it
    (model/'extra').symlink_to(outside, target_is_directory=True)
    (model/'real').mkdir()
    (model/'real'/'inner.txt').symlink_to(PASSWD)
    (model/'real'/'kept.txt').write_text('mine')
    os.mkfifo(model/'pipe')
    assert would_upload(model, LOCAL_ONLY)['notes.txt'] == PASSWD.read_bytes()  # what huggingface_hub alone would have sent
    api = FakeApi()
    publish(model, PushTo(token=SECRET, api=api))
    assert set(api.uploaded) == SHIPPED | {'real/kept.txt'}
    secret_bytes = [PASSWD.read_bytes(), b'OUTSIDE-SECRET']
    assert not any(b in data for data in api.uploaded.values() for b in secret_bytes if b)
    notes = [str(w.message) for w in recwarn]
    assert any('notes.txt' in n and 'extra' in n and 'not uploaded' in n for n in notes), notes
    fct.test_eq(leaving_files(model, LOCAL_ONLY)[1], ['chat_template.jinja', 'extra', 'notes.txt', 'pipe', 'real/inner.txt'])


@pytest.mark.parametrize('name', ['config.json', 'tokenizer_config.json', 'model.safetensors'])
def test_a_linked_file_the_model_needs_is_refused_before_anything_goes_up(model, tmp_path, name):
    "A model that would arrive on the Hub unable to load (its config, tokenizer or weights a link, left out) is one sentence, and no repo is made"
    real = model/name
    if not real.exists(): real.write_text('{}')  # the fixture's model has no tokenizer: one as a trained folder holds
    moved = tmp_path/name
    real.rename(moved); real.symlink_to(moved)
    api = FakeApi()
    with pytest.raises(UserError, match=f'{name} in .* is a symbolic link .* cannot load without it: copy the real file'): publish(model, PushTo(token=SECRET, api=api))
    assert api.uploaded is None and not [c for c in api.calls if c[0] in ('create_repo', 'upload_folder')], api.calls


def test_push_notes_left_out_links_on_the_command_line(model, tmp_path, monkeypatch, capsys):
    "`huggingtweets push` through the real code path: a note names the link, and the commit holds none of /etc/passwd"
    from huggingtweets import cli
    (model/'notes.txt').symlink_to(PASSWD)
    api = FakeApi()
    monkeypatch.setenv('HF_TOKEN', SECRET)
    monkeypatch.setattr(hub, 'HfApi', lambda *a, **kw: api)
    assert cli.main(['push', str(model)]) == 0
    out = capsys.readouterr().out
    assert 'Note: Left out notes.txt' in out and 'Pushed to https://huggingface.co/alice/karpathy' in out
    assert 'notes.txt' not in api.uploaded and not any(PASSWD.read_bytes() in d for d in api.uploaded.values())


def test_push_refuses_a_dataset_folder_with_a_link(model, tmp_path, monkeypatch, capsys):
    "`--push-dataset` pushes a dataset folder's own files only: one holding a link is refused, before anything goes up"
    from huggingtweets import cli
    d = tmp_path/'ds'
    d.mkdir()
    (d/'dataset.json').symlink_to(PASSWD)
    api = FakeApi()
    monkeypatch.setenv('HF_TOKEN', SECRET)
    monkeypatch.setattr(hub, 'HfApi', lambda *a, **kw: api)
    assert cli.main(['push', str(model), '--push-dataset', '--dataset', str(d)]) == 1
    err = capsys.readouterr().err
    assert 'dataset.json' in err and 'build the dataset again' in err and api.calls == []


def test_a_linked_card_is_never_read_nor_written_through(model, tmp_path):
    "README.md a link to a file outside: a push that fails leaves that file as it was, and never copies its bytes into the folder"
    outside = tmp_path/'outside.md'
    outside.write_text('OUTSIDE-SECRET')
    (model/'README.md').unlink()
    (model/'README.md').symlink_to(outside)
    with pytest.raises(UserError): publish(model, PushTo(token=SECRET, api=FakeApi(fail={'upload_folder': http_error(403)})))
    assert outside.read_text() == 'OUTSIDE-SECRET' and b'OUTSIDE-SECRET' not in (model/'README.md').read_bytes()
    api = FakeApi()
    publish(model, PushTo(token=SECRET, api=api))
    assert not any(b'OUTSIDE-SECRET' in d for d in api.uploaded.values()) and outside.read_text() == 'OUTSIDE-SECRET'
