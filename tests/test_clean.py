import re
import pytest
from huggingtweets.clean import fix_text, clean_tweet, boring_tweet, curate, stats_table, prepare
from huggingtweets.core import Account, Post
from huggingtweets.files import read_archive, read_file
from util import shared, make_archive, sample_tweets


def original_clean_tweet(tweet):
    "The original huggingtweets' clean_tweet (allow_new_lines=False), as the reference"
    for w in ['http:', 'https:']:
        tweet = re.sub(f" {w}\\S+", "", tweet)
        tweet = re.sub(f"{w}\\S+ ", "", tweet)
        tweet = re.sub(f"\n{w}\\S+ ", "", tweet)
        tweet = re.sub(f"\n{w}\\S+", "", tweet)
        tweet = re.sub(f"{w}\\S+", "", tweet)
    tweet = re.sub(' +', ' ', tweet)
    return ' '.join(tweet.split()).strip()


def original_boring_tweet(tweet):
    boring_stuff = ['http', '@', '#']
    return len([None for w in tweet.split() if all(bs not in w.lower() for bs in boring_stuff)]) < 3


@pytest.mark.parametrize('text, want', [
    ('https://t.co/abc starts', 'starts'),
    ('ends with https://t.co/abc', 'ends with'),
    ('mid http://a.b/c?d=e text', 'mid text'),
    ('line\nhttps://t.co/x\nalone', 'line alone'),
    ('https://t.co/only', ''),
    ('two\n\n\nlines\t tabs', 'two lines tabs'),
    ('emoji 🤖🔥 stays', 'emoji 🤖🔥 stays'),
    ('not a link: http', 'not a link: http'),
    ('httpsx:// kept', 'httpsx:// kept'),
    ('a (http://t.co/x) b', 'a (b'),
    ('(https://t.co/x)', '('),
])
def test_clean_tweet_edges(text, want):
    assert clean_tweet(text) == want == original_clean_tweet(text)


@pytest.mark.parametrize('text, want', [('&amp;lt;', '<'), ('&amp;amp;', '&amp;'), ('a &lt;b&gt; c', 'a <b> c'), ('&quot;', '&quot;')])
def test_fix_text(text, want):
    assert fix_text(text) == want


@pytest.mark.parametrize('text, boring', [
    ('@a @b #c', True), ('#one #two #three #four', True), ('one two', True), ('one two three', False),
    ('HTTP stuff here now', False), ('HTTP://x stuff here', True), ('@x one two three', False), ('🤖 🤖 🤖', False), ('Email@me is fine', True)])
def test_boring(text, boring):
    assert boring_tweet(text) is boring is original_boring_tweet(text)


@pytest.mark.parametrize('name', ['andreruffert_2022-11', 'alrocar_2024-01', 'LumenInferius_2020-04_oldname'])
def test_real_archive_counts_match_the_original_rules(name):
    acc = read_archive(shared('data', 'archives', name))
    c = curate(acc)
    own = [p.text for p in acc.posts if not p.text.startswith('RT @')]
    ref = [t for t in (original_clean_tweet(fix_text(x)) for x in own) if not original_boring_tweet(t)]
    assert c.texts == ref
    s = c.stats
    assert (s.downloaded, s.retweets, s.kept, s.short) == (len(acc.posts), len(acc.posts) - len(own), len(ref), len(own) - len(ref))
    assert not any(re.search(r'https?:\S', t) or '\n' in t for t in c.texts)


def test_real_troll_csv_flag_or_prefix():
    acc = read_file(shared('data', 'accounts', 'troll', 'LoraGreeen.csv'))
    s = curate(acc).stats
    assert s.retweets == sum(p.repost or p.text.startswith('RT @') for p in acc.posts) > 0
    assert s.downloaded == s.retweets + s.short + s.kept


def test_prepare_writes_stats(tmp_path):
    z = make_archive(tmp_path/'a.zip', sample_tweets(50))
    c = prepare(f'archive:{z}', tmp_path/'data')
    import json
    st = json.loads((c.cache/'stats.json').read_text())
    assert c.cache.parent == tmp_path/'data' and c.cache.name.startswith('a-')  # the archive's name, and a hash of its identity
    assert set(st) == {'handle', 'user_name', 'source', 'downloaded', 'retweets', 'short', 'kept', 'chars_kept', 'rule', 'languages'}
    assert (st['rule'], st['languages'][0][0]) == ('original', 'en')
    assert (st['downloaded'], st['retweets'], st['short'], st['kept']) == (50, 5, 5, 40)
    assert st['kept'] == len(c.texts)


def test_stats_table_columns():
    a = curate(Account('a', 'x', [Post('one two three four')], 'Ann'))
    b = curate(Account('b', 'x', [Post('RT @a: one two three')], 'Bob'))
    md = stats_table([a.stats, b.stats], markdown=True).splitlines()
    assert md == ['| Data | Ann | Bob |', '| --- | --- | --- |', '| Tweets downloaded | 1 | 1 |',
                  '| Retweets | 0 | 1 |', '| Short tweets | 0 | 0 |', '| Tweets kept | 1 | 0 |']


def test_stats_table_text_shows_languages_and_the_rule():
    en = curate(Account('a', 'x', [Post('one two three four')], 'Ann'))
    ja = curate(Account('b', 'x', [Post('今日は新しいパンを焼いてみたけど、まだ少し硬い')], 'Bo'))
    lines = stats_table([en.stats, ja.stats]).splitlines()
    assert lines[0].split() == ['@a', '@b'] and lines[-2].split()[0] == 'Languages' and 'ja' in lines[-2]
    assert lines[-1].startswith('Words counted') and 'by letters' in lines[-1]
    assert stats_table([en.stats]).splitlines()[-1].startswith('Languages')  # spaced only: no rule row


def test_curate_reasons_follow_the_posts():
    c = curate(Account('a', 'x', [Post('RT @b: theirs'), Post('#ff @c'), Post('a post of mine here'), Post('flagged one', repost=True)], 'A'))
    assert c.reasons == ['repost', 'short', '', 'repost'] and c.texts == ['a post of mine here']
