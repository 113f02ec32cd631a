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
    assert set(st) == {'handle', 'user_name', 'source', 'downloaded', 'retweets', 'short', 'kept', 'chars_kept', 'rule', 'languages', 'controls'}
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


# Control characters in posts: an archive's JSON or an API's answer carries them (`\u001b[31m`), and cleaning takes them out
import unicodedata
import fastcore.test as fct
from hypothesis import given, settings, strategies as st
from huggingtweets.core import strip_controls

CONTROLS = st.sampled_from([chr(c) for c in range(0x20)] + ['\x7f'] + [chr(c) for c in range(0x80, 0xa0)] +
                           ['\x1b[31m', '\x1b[2J', '\x1b]0;pwned\x07', '\x1b]8;;http://evil.example\x1b\\', '\x9b1;31m', '\x1bP'])
WORDS = st.text(st.characters(exclude_categories=('Cs', 'Cc')), max_size=10) | st.sampled_from(['one two three', ' http://t.co/x ', 'RT @a:', '#ai', ' '])
POST_WITH_CONTROLS = st.lists(WORDS | CONTROLS, max_size=10).map(''.join)


def is_control(c): return unicodedata.category(c) == 'Cc'


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.tuples(POST_WITH_CONTROLS, st.booleans()), max_size=8))
def test_no_control_character_survives_cleaning(texts):
    "Whatever controls and escapes a post holds, no kept text holds one; a post without any is cleaned as the original did; the count names only posts that had some"
    c = curate(Account('a', 'x', [Post(t, repost=r) for t, r in texts], 'A'))
    for t in c.texts: assert not any(is_control(ch) for ch in t) and '\x1b' not in t, repr(t)
    plain = [t for t, r in texts if not r and not t.startswith('RT @') and not any(is_control(ch) and not ch.isspace() for ch in t)]
    for t in plain: assert clean_tweet(fix_text(strip_controls(t))) == original_clean_tweet(fix_text(t))
    had = [t for t, r in texts if not r and not t.startswith('RT @') and any(is_control(ch) and not ch.isspace() for ch in t)]
    assert 0 <= c.stats.controls <= len(had)
    assert ('Tweets with control characters removed' in stats_table([c.stats])) == (c.stats.controls > 0)


def test_controls_are_counted_and_shown(tmp_path):
    "An archive whose posts hold an ANSI colour, an OSC title and a NUL: the kept texts are plain, the table counts the posts, the card's table too"
    posts = ['\x1b[31mred alert\x1b[0m in the terminal today', 'set the \x1b]0;pwned\x07title of your window', 'a NUL\x00 in the middle of it',
             'a plain post with nothing odd', 'two\r\nlines of text here']
    a = read_archive(make_archive(tmp_path/'a.zip', posts))
    c = curate(a)
    fct.test_eq(c.texts, ['red alert in the terminal today', 'set the title of your window', 'a NUL in the middle of it',
                          'a plain post with nothing odd', 'two lines of text here'])
    fct.test_eq(c.stats.controls, 3)
    assert '| Tweets with control characters removed | 3 |' in stats_table([c.stats], markdown=True)
    assert stats_table([c.stats]).splitlines()[5].split()[-1] == '3'
