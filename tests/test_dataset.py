import json, time, warnings
import pytest
from huggingtweets.core import Account, Post, UserError, EOT
from huggingtweets.clean import curate, prepare
from huggingtweets.dataset import make_dataset, save_dataset, load_dataset, check_size, model_name, held_out
from huggingtweets.files import read_file
from util import shared, sample_tweets


def acc(handle, n, words=8):
    return curate(Account(handle, 'x', [Post(f'{handle} post {i} ' + ' '.join(['word'] * words)) for i in range(n)], handle.title()))


def test_balanced_accounts_and_split():
    big, small = acc('big', 400), acc('small', 40)
    ds = make_dataset([big, small], epochs=4, seed=7, min_chars=100, warn_chars=100)
    parts = ds.train_text.split(EOT)
    assert parts[0] == '' and parts[-1] == ''
    chars = {h: sum(len(p) for p in parts if p.startswith(h + ' ')) for h in ('big', 'small')}
    assert abs(chars['big'] - chars['small']) / chars['big'] < 0.05  # balanced to the largest
    a = {x.handle: x for x in ds.info.accounts}
    assert 25 <= a['big'].valid_posts <= 55 and 1 <= a['small'].valid_posts <= 9  # about 10%, by hash
    assert (a['big'].valid_posts, a['small'].valid_posts) == (sum(held_out(t, 0.1) for t in big.texts), sum(held_out(t, 0.1) for t in small.texts))
    assert not set(ds.valid_texts) & set(parts)
    assert ds.name == 'big-small' and ds.info.seed == 7 and ds.info.epochs == 4
    assert list(ds.splits) == ['train', 'validation'] and set(ds.splits['train']['account']) == {'big', 'small'}


def test_single_account_is_the_original_text():
    c = acc('jack', 100)
    ds = make_dataset([c], epochs=4, seed=0, valid_frac=0, min_chars=100)
    parts = ds.train_text.split(EOT)[1:-1]
    assert len(parts) == 400 and sorted(parts) == sorted(c.texts * 4)
    for e in range(4): assert sorted(parts[e*100:(e+1)*100]) == sorted(c.texts)  # each epoch one shuffled copy


def test_seed_reproducible_and_recorded(tmp_path):
    c = [acc('a', 200), acc('b', 150)]
    d1, d2 = save_dataset(make_dataset(c, seed=3, min_chars=100), tmp_path/'1'), save_dataset(make_dataset(c, seed=3, min_chars=100), tmp_path/'2')
    for f in ('train.txt', 'valid.txt', 'dataset.json'):
        assert (d1/f).read_bytes() == (d2/f).read_bytes()
    assert make_dataset(c, seed=4, min_chars=100).train_texts != load_dataset(d1).train_texts
    assert make_dataset(c, seed=4, min_chars=100).valid_texts == load_dataset(d1).valid_texts  # the split is the posts', not the seed's
    drawn = make_dataset(c, min_chars=100)
    assert isinstance(drawn.info.seed, int)
    assert make_dataset(c, seed=drawn.info.seed, min_chars=100).train_texts == drawn.train_texts


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
    assert {'handle', 'user_name', 'source', 'stats', 'train_posts', 'valid_posts'} <= set(a)
    assert a['train_posts'] + a['valid_posts'] == a['stats']['kept']
    assert len((d/'valid.txt').read_text().splitlines()) == a['valid_posts']
    import datasets
    dd = datasets.load_from_disk(str(d))  # what anyone with `datasets` opens
    assert dd['validation'].num_rows == a['valid_posts'] and dd['train'].column_names == ['account', 'text']
    posts = datasets.load_from_disk(str(d/'posts'))
    assert posts.num_rows == 300 and set(posts['split']) <= {'train', 'validation', 'dropped'}


def test_real_trump_2016():
    c = curate(read_file(shared('data', 'accounts', 'trump_tweets.jsonl')))
    ds = make_dataset([c], seed=0)
    assert abs(ds.info.accounts[0].valid_posts - c.stats.kept * 0.1) < 3 * (c.stats.kept * 0.1 * 0.9) ** 0.5  # within 3 sigma of 10%
    assert not ds.warnings


def test_holding_out_never_empties_an_account():
    two = curate(Account('two', 'x', [Post('a long post ' * 300), Post('another long post ' * 300)], 'Two'))
    ds = make_dataset([two, acc('many', 300)], valid_frac=0.99, seed=0, min_chars=100)
    a = {x.handle: x for x in ds.info.accounts}
    assert a['two'].train_posts == 1 and a['two'].train_posts + a['two'].valid_posts == 2
    assert not set(ds.valid_texts) & set(ds.train_texts)


def test_account_with_nothing_kept(tmp_path):
    none = curate(Account('none', 'x', [Post('RT @a: b c d')], 'None'))
    with pytest.raises(UserError, match='@none has no posts left'):
        make_dataset([none, acc('many', 300)], min_chars=0)


def test_model_name_fits_the_hub():
    from huggingface_hub.utils import validate_repo_id
    for hs in (['my--tweets'], ['a' * 70 + '.bsky.social', 'b' * 70 + '@mastodon.social', 'c' * 50], ['_x_', '.y.']):
        validate_repo_id('me/' + model_name(hs))


def test_split_is_stable_as_posts_are_added():
    "A post held out once stays held out when the account has more posts (a model kept in step never trains on its measure)"
    old, new = acc('a', 200), acc('a', 400)
    v_old = set(make_dataset([old], seed=1, min_chars=100).valid_texts)
    v_new = set(make_dataset([new], seed=2, min_chars=100).valid_texts)
    assert v_old and v_old <= v_new


def test_copies_of_a_post_share_a_side():
    c = curate(Account('bot', 'x', [Post(f'the same words again and again {i % 50}') for i in range(500)], 'Bot'))
    ds = make_dataset([c], seed=0, min_chars=100)
    assert not set(ds.valid_texts) & set(ds.train_texts)


def test_save_replaces_the_folder_as_one_unit(tmp_path, monkeypatch):
    "A save that fails half-way leaves the previous dataset whole: never a train split of one seed beside held-out posts of another"
    d = save_dataset(make_dataset([acc('a', 300)], seed=1, min_chars=100), tmp_path/'ds')
    before = {p.relative_to(d): p.read_bytes() for p in d.rglob('*') if p.is_file()}
    import huggingtweets.dataset as dm
    ds2 = make_dataset([acc('a', 300)], seed=2, min_chars=100)
    real = type(ds2.posts).save_to_disk
    def boom(self, *a, **kw): raise KeyboardInterrupt
    monkeypatch.setattr(type(ds2.posts), 'save_to_disk', boom)
    with pytest.raises(KeyboardInterrupt): save_dataset(ds2, d)
    monkeypatch.setattr(type(ds2.posts), 'save_to_disk', real)
    assert {p.relative_to(d): p.read_bytes() for p in d.rglob('*') if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ['ds']  # no temporary folder left

def test_huge_epochs_are_refused_before_building(tmp_path, capsys):
    "--dataset-epochs 100000: one sentence at once, not memory running out while the text is built"
    from huggingtweets.cli import main
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    t0 = time.time()
    rc = main(['dataset', f'file:{tmp_path}/posts.txt', '--data-dir', str(tmp_path/'data'), '--out', str(tmp_path/'ds'), '--dataset-epochs', '100000'])
    err = capsys.readouterr().err
    assert rc == 1 and '100,000 epochs would write about' in err and 'give fewer epochs' in err and err.count('\n') == 1, err
    assert time.time() - t0 < 10 and not (tmp_path/'ds').exists()
