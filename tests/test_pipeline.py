import pytest
from huggingtweets.pipeline import PushTo, train_and_publish
from huggingtweets.sources import UserError


class FakeHub:
    token = 'hf_SECRET_TOKEN_123'
    def whoami(self): return {'name': 'me'}


def test_push_target_hides_its_token():
    p = PushTo('me/x', token='hf_SECRET_TOKEN_123')
    assert 'hf_SECRET' not in repr(p)


def test_bad_repo_id_fails_before_training():
    p = PushTo('me/bad--name', api=FakeHub())
    with pytest.raises(UserError, match='not a Hub repository id'):
        p.resolve('x')


def test_default_repo_id_is_the_token_owners():
    assert PushTo(api=FakeHub()).resolve('jack') == 'me/jack'
