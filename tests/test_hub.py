"Pushing to the Hub through a stand-in `HfApi` that records its calls and answers with huggingface_hub's own errors."
import json
from pathlib import Path
import httpx2  # huggingface_hub 2.x's HTTP library: its errors wrap these responses
import pytest
from huggingface_hub import ModelCard
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import hf_raise_for_status
from huggingtweets import hub
from huggingtweets.hub import push, resolve_token, default_repo_id, NO_TOKEN
from huggingtweets.sources import UserError

SECRET = 'hf_SECRET123'


def http_error(status, url='https://huggingface.co/api/repos/create', body=None, headers=None):
    "The exception huggingface_hub raises when the Hub answers `status`, built the way it builds them"
    r = httpx2.Response(status, request=httpx2.Request('POST', url), json=body or {'error': 'no'}, headers=headers or {})
    with pytest.raises(HfHubHTTPError) as e: hf_raise_for_status(r)
    return e.value


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
        self._call('upload_folder', **kw)
        root = Path(kw['folder_path'])
        self.uploaded = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob('*') if p.is_file()}


@pytest.fixture
def model(tmp_path):
    "A model folder as `finetune` leaves it: weights (stood in for), config and huggingtweets.json, with a card for a placeholder id"
    m = tmp_path/'karpathy'
    m.mkdir()
    (m/'config.json').write_text('{"model_type": "gpt2"}')
    (m/'model.safetensors').write_bytes(b'\0' * 64)
    stats = dict(handle='karpathy', user_name='Andrej Karpathy', source='x', downloaded=3200, retweets=300, short=400, kept=2500, chars_kept=200_000)
    meta = dict(dataset=dict(name='karpathy', accounts=[dict(handle='karpathy', slug='karpathy', user_name='Andrej Karpathy',
                avatar='https://pbs.twimg.com/k.jpg', stats=stats, valid=dict(tweets=250))]),
                train=dict(valid_loss=3.0, perplexity=20.1, config=dict(base_model='gpt2')),
                wandb=dict(train='https://wandb.ai/me/huggingtweets/runs/abc'))
    (m/'huggingtweets.json').write_text(json.dumps(meta))
    from huggingtweets.card import write_card
    write_card(m, 'karpathy')
    return m


@pytest.fixture
def no_login(monkeypatch):
    "No token anywhere: not in the environment, not saved by `hf auth login`"
    monkeypatch.delenv('HF_TOKEN', raising=False)
    monkeypatch.setattr(hub, 'get_token', lambda: None)


def test_push_renders_the_card_then_uploads(model):
    api = FakeApi()
    url = push(model, token=SECRET, api=api)
    assert url == 'https://huggingface.co/alice/karpathy'  # the token owner's namespace, the model's name
    assert [c[0] for c in api.calls] == ['whoami', 'create_repo', 'upload_folder']
    assert api.calls[1] == ('create_repo', ('alice/karpathy',), dict(private=False, exist_ok=True, repo_type='model'))
    up = api.calls[2][2]
    assert (Path(up['folder_path']), up['repo_id'], up['repo_type']) == (model, 'alice/karpathy', 'model') and up['commit_message']
    readme = api.uploaded['README.md'].decode()
    assert "model='alice/karpathy')" in readme and "model='karpathy')" not in readme  # rendered again before the upload
    assert 'https://wandb.ai/me/huggingtweets/runs/abc' in readme  # the W&B links recorded with the model survive
    assert ModelCard(readme).data.base_model == 'openai-community/gpt2'
    assert set(api.uploaded) == {'README.md', 'config.json', 'model.safetensors', 'huggingtweets.json'}


def test_repo_ids(model):
    api = FakeApi()
    assert push(model, 'org/bot', token=SECRET, api=api) == 'https://huggingface.co/org/bot'
    assert [c[0] for c in api.calls] == ['create_repo', 'upload_folder']  # no whoami for a full id
    assert "model='org/bot')" in api.uploaded['README.md'].decode()
    assert push(model, 'mybot', token=SECRET, api=FakeApi(user='bob')) == 'https://huggingface.co/bob/mybot'
    assert default_repo_id('a-b', FakeApi(user='carol')) == 'carol/a-b'
    api = FakeApi()
    push(model, 'org/private-bot', token=SECRET, api=api, private=True, commit_message='hello')
    assert api.calls[0][2]['private'] is True and api.calls[1][2]['commit_message'] == 'hello'
    with pytest.raises(UserError, match='not a Hub repository id'): push(model, 'a/b/c', token=SECRET, api=FakeApi())


def test_resolve_token(monkeypatch, no_login):
    assert resolve_token() is None
    monkeypatch.setattr(hub, 'get_token', lambda: 'hf_saved')
    assert resolve_token() == 'hf_saved'
    monkeypatch.setenv('HF_TOKEN', 'hf_env')
    assert resolve_token() == 'hf_env'
    assert resolve_token('hf_arg') == 'hf_arg'


def test_no_token(model, no_login):
    with pytest.raises(UserError) as e: push(model)  # before any network: no HfApi is made
    assert str(e.value) == NO_TOKEN and 'hf auth login' in NO_TOKEN and 'HF_TOKEN' in NO_TOKEN
    api = FakeApi()
    with pytest.raises(UserError, match='No Hugging Face token'): push(model, api=api)
    assert api.calls == []
    assert push(model, api=FakeApi(token='hf_in_api')).endswith('/alice/karpathy')  # an api that holds its own token will do


@pytest.mark.parametrize('step,err,says', [
    ('whoami', lambda: http_error(401, 'https://huggingface.co/api/whoami-v2', {'error': f'Invalid credentials {SECRET}'}), 'refused the token (HTTP 401)'),
    ('create_repo', lambda: http_error(403, body={'error': f"You don't have the rights to create a model under this namespace ({SECRET})"}), 'lacks write access'),
    ('upload_folder', lambda: http_error(401, 'https://huggingface.co/api/models/alice/karpathy/preupload/main', headers={'X-Error-Code': 'RepoNotFound'}), 'refused the token'),
    ('upload_folder', lambda: http_error(500, body={'error': f'boom {SECRET}'}), 'HTTP 500'),
    ('create_repo', lambda: ConnectionError(f'no route to host for {SECRET}'), 'Could not reach the Hugging Face Hub'),
    ('upload_folder', lambda: httpx2.ConnectError('connection refused'), 'Could not reach the Hugging Face Hub'),
])
def test_errors_say_what_to_do_without_the_token(model, step, err, says):
    e = err()
    with pytest.raises(UserError) as got: push(model, token=SECRET, api=FakeApi(fail={step: e}))
    msg = str(got.value)
    assert says in msg and SECRET not in msg and SECRET not in repr(got.value)
    assert got.value.__cause__ is None and got.value.__suppress_context__  # the Hub's own exception is not chained into the traceback
    if step != 'whoami' and isinstance(e, HfHubHTTPError): assert 'alice/karpathy' in msg
    if isinstance(e, HfHubHTTPError) and e.response.status_code in (401, 403): assert 'https://huggingface.co/settings/tokens' in msg


def test_repository_not_found_is_a_token_problem(model):
    e = http_error(401, 'https://huggingface.co/api/models/alice/karpathy/preupload/main', headers={'X-Error-Code': 'RepoNotFound'})
    assert isinstance(e, RepositoryNotFoundError)
    with pytest.raises(UserError, match='lacks write access'): push(model, token=SECRET, api=FakeApi(fail={'upload_folder': e}))


def test_other_errors_propagate(model):
    with pytest.raises(KeyError): push(model, token=SECRET, api=FakeApi(fail={'upload_folder': KeyError('bug')}))


def test_not_a_model_folder(tmp_path):
    with pytest.raises(UserError, match='not a model folder'): push(tmp_path, token=SECRET, api=FakeApi())


def test_a_folder_without_huggingtweets_json_keeps_its_card(tmp_path):
    (tmp_path/'config.json').write_text('{}')
    (tmp_path/'README.md').write_text('my own card')
    api = FakeApi()
    assert push(tmp_path, token=SECRET, api=api) == f'https://huggingface.co/alice/{tmp_path.name}'
    assert api.uploaded['README.md'] == b'my own card'


def test_secret_scan(model, monkeypatch):
    "After pushes with a token given and a token in the environment, no file in the folder holds it"
    monkeypatch.setenv('HF_TOKEN', 'hf_ENVSECRET456')
    push(model, token=SECRET, api=FakeApi())
    push(model, api=FakeApi())
    try: push(model, token=SECRET, api=FakeApi(fail={'upload_folder': http_error(403)}))
    except UserError: pass
    files = [p for p in model.rglob('*') if p.is_file()]
    assert {p.name for p in files} == {'README.md', 'config.json', 'model.safetensors', 'huggingtweets.json'}
    for p in files: assert b'hf_SECRET123' not in p.read_bytes() and b'hf_ENVSECRET456' not in p.read_bytes(), p
