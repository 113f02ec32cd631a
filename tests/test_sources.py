import json, zipfile
from pathlib import Path
import pytest
from huggingtweets.sources import (fetch, read_archive, read_file, parse_spec, load_cache, cache_path, UserError, Spec)
from util import make_archive, sample_tweets, shared, tweet


def test_archive_zip_split_parts_and_cache(tmp_path):
    z = make_archive(tmp_path/'a.zip', sample_tweets(90), parts=3)
    acc = fetch(f'archive:{z}', tmp_path/'data')
    assert (acc.handle, acc.user_name, acc.source) == ('jack', 'Jack', 'archive')
    assert len(acc.posts) == 90 and sum(p.repost for p in acc.posts) == 9
    assert acc.avatar.startswith('https://')
    assert load_cache(cache_path(tmp_path/'data', 'jack')) == acc


def test_archive_folder_and_old_tweet_js(tmp_path):
    make_archive(tmp_path, ['an old tweet from 2019 here', 'RT @x: theirs'], zipped=False, tweet_file='tweet')
    acc = read_archive(tmp_path)
    assert [p.repost for p in acc.posts] == [False, True]


def test_archive_nested_top_folder(tmp_path):
    z = make_archive(tmp_path/'a.zip', ['one two three four'], top='twitter-2024-01-01/')
    assert read_archive(z).posts[0].text == 'one two three four'


def test_retweeted_flag(tmp_path):
    z = make_archive(tmp_path/'a.zip', [tweet(1, 'flagged as a retweet', retweeted=True), tweet(2, 'mine')])
    assert [p.repost for p in read_archive(z).posts] == [True, False]


@pytest.mark.parametrize('setup, msg', [
    (lambda p: p.write_text('not a zip'), 'not a zip file'),
    (lambda p: zipfile.ZipFile(p, 'w').writestr('data/like.js', 'window.YTD.like.part0 = []'), 'has no data/tweets.js'),
    (lambda p: zipfile.ZipFile(p, 'w').writestr('data/tweets.js', 'window.YTD.tweets.part0 = [ {"tweet": {'), 'malformed JSON'),
])
def test_corrupt_archives(tmp_path, setup, msg):
    p = tmp_path/'bad.zip'
    setup(p)
    with pytest.raises(UserError, match=msg): fetch(f'archive:{p}', tmp_path/'data')
    assert not (tmp_path/'data').exists() or not any((tmp_path/'data').rglob('posts.jsonl'))


def test_missing_archive(tmp_path):
    with pytest.raises(UserError, match='No archive at'): fetch(f'archive:{tmp_path}/nope.zip', tmp_path)


def test_empty_account(tmp_path):
    z = make_archive(tmp_path/'a.zip', [])
    with pytest.raises(UserError, match='has no posts'): fetch(f'archive:{z}', tmp_path/'data')
    assert not list(tmp_path.rglob('posts.jsonl'))


def test_cache_is_read_until_refresh(tmp_path):
    z = make_archive(tmp_path/'a.zip', ['first version of the tweets'])
    fetch(f'archive:{z}', tmp_path/'data')
    make_archive(z, ['second version of the tweets', 'and one more tweet here'])
    assert len(fetch(f'archive:{z}', tmp_path/'data').posts) == 1
    assert len(fetch(f'archive:{z}', tmp_path/'data', refresh=True).posts) == 2


def test_files(tmp_path):
    (tmp_path/'a.csv').write_text('id,full_text,is_retweet\n1,hello there world,False\n2,"RT @b: x",False\n3,"multi\nline post",True\n')
    assert [(p.text, p.repost) for p in read_file(tmp_path/'a.csv').posts] == [
        ('hello there world', False), ('RT @b: x', True), ('multi\nline post', True)]
    (tmp_path/'b.jsonl').write_text('{"tweet": "one post here", "retweet": 0}\n\n{"tweet": "two", "retweet": 1}\n')
    assert [p.repost for p in read_file(tmp_path/'b.jsonl').posts] == [False, True]
    (tmp_path/'c.jsonl').write_text('{"tweet": "one"}\nnot json\n')
    with pytest.raises(UserError, match='line 2'): read_file(tmp_path/'c.jsonl')
    (tmp_path/'d.csv').write_text('body,x\nhi,1\n')
    with pytest.raises(UserError, match='no text column.*body, x'): read_file(tmp_path/'d.csv')
    (tmp_path/'e.xlsx').write_text('x')
    with pytest.raises(UserError, match='must be .csv'): read_file(tmp_path/'e.xlsx')


def test_bare_paths_and_specs(tmp_path, monkeypatch):
    monkeypatch.delenv('X_BEARER_TOKEN', raising=False)
    (tmp_path/'a.txt').write_text('x\n')
    assert parse_spec(str(tmp_path/'a.txt')) == Spec('file', str(tmp_path/'a.txt'))
    assert parse_spec(str(tmp_path)) == Spec('archive', str(tmp_path))
    assert parse_spec('@jack') == Spec('snscrape', 'jack')
    monkeypatch.setenv('X_BEARER_TOKEN', 'tok')
    assert parse_spec('jack') == Spec('x', 'jack')
    with pytest.raises(UserError, match='mastodon:@user@instance'): parse_spec('mastodon:bob')


@pytest.mark.parametrize('name, n, rts', [('andreruffert_2022-11', 1986, 643), ('alrocar_2024-01', 820, 9),
                                          ('LumenInferius_2020-04_oldname', 22, 0)])
def test_real_archives(name, n, rts):
    acc = read_archive(shared('data', 'archives', name))
    assert (len(acc.posts), sum(p.repost for p in acc.posts)) == (n, rts)
    assert acc.handle and acc.user_name


def test_real_archive_zipped(tmp_path):
    src = shared('data', 'archives', 'andreruffert_2022-11')
    z = tmp_path/'archive.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        for f in src.rglob('*'):
            if f.is_file(): zf.write(f, f.relative_to(src))
    assert read_archive(z) .posts == read_archive(src).posts


def test_real_troll_csv():
    acc = read_file(shared('data', 'accounts', 'troll', 'KathieMrr.csv'))
    assert len(acc.posts) > 1000 and any(p.repost for p in acc.posts)


def test_archive_avatar_travels_to_the_model_card(tmp_path):
    "An avatar inside the archive is kept beside the cache, copied into the model folder, and named in the card once pushed"
    import zipfile
    from huggingtweets.clean import prepare
    from huggingtweets.dataset import make_dataset
    from huggingtweets.train import finetune, make_tiny_model, TrainConfig
    from huggingtweets.card import render_card
    import json
    z = make_archive(tmp_path/'a.zip', sample_tweets(300))
    with zipfile.ZipFile(z, 'a') as zf:
        zf.writestr('data/profile.js', 'window.YTD.profile.part0 = [{"profile": {"avatarMediaUrl": "./data/profile_media/pic.png"}}]')
        zf.writestr('data/profile_media/1-pic.png', b'\x89PNG fake')
    c = prepare(f'archive:{z}', tmp_path/'data')
    assert Path(c.account.avatar).read_bytes() == b'\x89PNG fake'
    ds = make_dataset([c], seed=0, min_chars=100)
    finetune(ds, tmp_path/'m', TrainConfig(str(make_tiny_model(tmp_path/'tiny')), block_size=64, max_steps=1), progress=False)
    assert (tmp_path/'m'/'avatar-jack.png').read_bytes() == b'\x89PNG fake'
    meta = json.loads((tmp_path/'m'/'huggingtweets.json').read_text())
    card = render_card(meta, 'me/jack', folder=tmp_path/'m')
    assert 'https://huggingface.co/me/jack/resolve/main/avatar-jack.png' in card.content


def test_same_name_other_account_is_not_read_from_the_cache(tmp_path):
    (tmp_path/'a').mkdir(); (tmp_path/'b').mkdir()
    (tmp_path/'a'/'tweets.csv').write_text('text\nfrom the first account here\n')
    (tmp_path/'b'/'tweets.csv').write_text('text\nfrom the second account here\nand another\n')
    assert fetch(f'file:{tmp_path}/a/tweets.csv', tmp_path/'d').posts[0].text.startswith('from the first')
    assert fetch(f'file:{tmp_path}/b/tweets.csv', tmp_path/'d').posts[0].text.startswith('from the second')


def test_underscore_handles_are_distinct(tmp_path, monkeypatch):
    from huggingtweets.sources import slugify
    assert slugify('_jack') != slugify('jack')


@pytest.mark.parametrize('where', ['data', 'data/tweets.js'])
def test_archive_pointed_at_its_data_folder_or_tweets_js(tmp_path, where):
    make_archive(tmp_path, ['one two three four', 'RT @x: five six'], zipped=False)
    acc = read_archive(tmp_path/where)
    assert (acc.handle, [p.repost for p in acc.posts]) == ('jack', [False, True])
