import json, warnings
import pytest
from huggingtweets.clean import curate, EOT, prepare
from huggingtweets.dataset import make_dataset, save_dataset, load_dataset, check_size, model_name
from huggingtweets.sources import Account, Post, UserError, read_file
from util import shared


def acc(handle, n, words=8):
    return curate(Account(handle, 'x', [Post(f'{handle} post {i} ' + ' '.join(['word'] * words)) for i in range(n)], handle.title()))


def test_balanced_accounts_and_split():
    big, small = acc('big', 400), acc('small', 40)
    ds = make_dataset([big, small], epochs=4, seed=7, min_chars=100, warn_chars=100)
    parts = ds.train.split(EOT)
    assert parts[0] == '' and parts[-1] == ''
    chars = {h: sum(len(p) for p in parts if p.startswith(h + ' ')) for h in ('big', 'small')}
    assert abs(chars['big'] - chars['small']) / chars['big'] < 0.05  # balanced to the largest
    a = {x['handle']: x for x in ds.info['accounts']}
    assert (a['big']['valid']['tweets'], a['small']['valid']['tweets']) == (40, 4)
    assert not set(ds.valid) & set(parts)
    assert ds.name == 'big-small' and ds.info['seed'] == 7 and ds.info['epochs'] == 4


def test_single_account_is_the_original_text():
    c = acc('jack', 100)
    ds = make_dataset([c], epochs=4, seed=0, valid_frac=0, min_chars=100)
    parts = ds.train.split(EOT)[1:-1]
    assert len(parts) == 400 and sorted(parts) == sorted(c.texts * 4)
    for e in range(4): assert sorted(parts[e*100:(e+1)*100]) == sorted(c.texts)  # each epoch one shuffled copy


def test_seed_reproducible_and_recorded(tmp_path):
    c = [acc('a', 200), acc('b', 150)]
    d1, d2 = save_dataset(make_dataset(c, seed=3, min_chars=100), tmp_path/'1'), save_dataset(make_dataset(c, seed=3, min_chars=100), tmp_path/'2')
    for f in ('train.txt', 'valid.txt', 'dataset.json'):
        assert (d1/f).read_bytes() == (d2/f).read_bytes()
    assert make_dataset(c, seed=4, min_chars=100).train != load_dataset(d1).train
    drawn = make_dataset(c, min_chars=100)
    assert isinstance(drawn.info['seed'], int)
    assert make_dataset(c, seed=drawn.info['seed'], min_chars=100).train == drawn.train


def test_size_limits_name_the_account_and_numbers():
    small = acc('tiny', 10)
    with pytest.raises(UserError, match=r'@tiny has only [\d,]+ characters .* at least 6,000'):
        make_dataset([acc('big', 2000), small])
    with pytest.warns(UserWarning, match=r'@mid has only [\d,]+ characters.*under 40,000'):
        ds = make_dataset([acc('mid', 300)])
    assert ds.warnings and '@mid' in ds.warnings[0]


def test_too_many_accounts():
    with pytest.raises(UserError, match='one to three'):
        make_dataset([acc(h, 300) for h in 'abcd'], min_chars=10)


def test_dataset_json_fields(tmp_path):
    d = save_dataset(make_dataset([acc('a', 300)], seed=1, min_chars=100), tmp_path/'ds')
    info = json.loads((d/'dataset.json').read_text())
    a = info['accounts'][0]
    assert {'handle', 'user_name', 'source', 'stats', 'train', 'valid'} <= set(a)
    assert a['train']['tweets'] + a['valid']['tweets'] == a['stats']['kept']
    assert len((d/'valid.txt').read_text().splitlines()) == a['valid']['tweets']


def test_real_trump_2016():
    c = curate(read_file(shared('data', 'accounts', 'trump_tweets.jsonl')))
    ds = make_dataset([c], seed=0)
    assert ds.info['accounts'][0]['valid']['tweets'] == round(c.stats.kept * 0.1)
    assert not ds.warnings


def test_holding_out_never_empties_an_account():
    two = curate(Account('two', 'x', [Post('a long post ' * 300), Post('another long post ' * 300)], 'Two'))
    ds = make_dataset([two, acc('many', 300)], valid_frac=0.8, seed=0, min_chars=100)
    a = {x['handle']: x for x in ds.info['accounts']}
    assert (a['two']['train']['tweets'], a['two']['valid']['tweets']) == (1, 1)


def test_account_with_nothing_kept(tmp_path):
    none = curate(Account('none', 'x', [Post('RT @a: b c d')], 'None'))
    with pytest.raises(UserError, match='@none has no posts left'):
        make_dataset([none, acc('many', 300)], min_chars=0)


def test_model_name_fits_the_hub():
    from huggingface_hub.utils import validate_repo_id
    for hs in (['my--tweets'], ['a' * 70 + '.bsky.social', 'b' * 70 + '@mastodon.social', 'c' * 50], ['_x_', '.y.']):
        validate_repo_id('me/' + model_name(hs))
