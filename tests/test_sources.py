"""Specs, identity and the cache: one account named many ways is one account with one cache; two accounts never share one;
a changed source is read again, a damaged cache says what to do, and no write, interrupted or killed, leaves half a file."""
import os, re, signal, subprocess, sys, textwrap, zipfile
from dataclasses import replace
from pathlib import Path
import pytest
import fastcore.test as fct
from huggingtweets import core, sources
from huggingtweets.core import UserError, Spec, Account, Post, slugify, atomic_write, AtomicDir, sweep_stale
from huggingtweets.files import read_archive, read_file
from huggingtweets.sources import fetch, parse_spec, load_cache, cache_dir, CACHE_NAME, SOURCES
from util import make_archive, sample_tweets, tweet, ROOT

def cache_of(data, spec): return cache_dir(data, parse_spec(spec))/CACHE_NAME

def leftovers(folder:Path): return sorted(p.name for p in Path(folder).rglob('*') if '.tmp-' in p.name or '.old-' in p.name)

def dead_pid()->int:
    "The id of a process that has exited (and been reaped)"
    p = subprocess.Popen([sys.executable, '-c', 'pass']); p.wait()
    return p.pid


# ---------------------------------------------------------------------------------------------------------------
# Ported from the old sources tests

def test_archive_zip_split_parts_and_cache(tmp_path):
    z = make_archive(tmp_path/'a.zip', sample_tweets(90), parts=3)
    acc = fetch(f'archive:{z}', tmp_path/'data')
    fct.test_eq((acc.handle, acc.user_name, acc.source, acc.spec, acc.identity), ('jack', 'Jack', 'archive', f'archive:{z}', f'archive:{z.resolve()}'))
    assert len(acc.posts) == 90 and sum(p.repost for p in acc.posts) == 9
    assert acc.avatar.startswith('https://')
    cached, stamp = load_cache(cache_of(tmp_path/'data', f'archive:{z}'))
    fct.test_eq(cached, acc)
    fct.test_eq(stamp, [['a.zip', z.stat().st_size, z.stat().st_mtime_ns]])

def test_archive_folder_and_old_tweet_js(tmp_path):
    make_archive(tmp_path, ['an old tweet from 2019 here', 'RT @x: theirs'], zipped=False, tweet_file='tweet')
    fct.test_eq([p.repost for p in read_archive(tmp_path).posts], [False, True])

def test_archive_nested_top_folder(tmp_path):
    z = make_archive(tmp_path/'a.zip', ['one two three four'], top='twitter-2024-01-01/')
    fct.test_eq(read_archive(z).posts[0].text, 'one two three four')

def test_retweeted_flag(tmp_path):
    z = make_archive(tmp_path/'a.zip', [tweet(1, 'flagged as a retweet', retweeted=True), tweet(2, 'mine')])
    fct.test_eq([p.repost for p in read_archive(z).posts], [True, False])

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

def counting(monkeypatch, source:str)->list:
    "Count the calls of a source's fetch"
    calls, s = [], SOURCES[source]
    monkeypatch.setitem(SOURCES, source, replace(s, fetch=lambda v, o, *a, **kw: calls.append(v) or s.fetch(v, o, *a, **kw)))
    return calls

def test_cache_is_read_until_refresh_or_a_change(tmp_path, monkeypatch):
    "An unchanged source is read from its cache; refresh reads it again; a changed archive is read again without being asked"
    calls = counting(monkeypatch, 'archive')
    z = make_archive(tmp_path/'a.zip', ['first version of the tweets'])
    fetch(f'archive:{z}', tmp_path/'data')
    fct.test_eq(len(fetch(f'archive:{z}', tmp_path/'data').posts), 1)
    fct.test_eq(len(calls), 1)
    fct.test_eq(len(fetch(f'archive:{z}', tmp_path/'data', refresh=True).posts), 1)
    fct.test_eq(len(calls), 2)
    make_archive(z, ['second version of the tweets', 'and one more tweet here'])
    fct.test_eq(len(fetch(f'archive:{z}', tmp_path/'data').posts), 2)
    fct.test_eq(len(calls), 3)

def test_files(tmp_path):
    (tmp_path/'a.csv').write_text('id,full_text,is_retweet\n1,hello there world,False\n2,"RT @b: x",False\n3,"multi\nline post",True\n')
    fct.test_eq([(p.text, p.repost) for p in read_file(tmp_path/'a.csv').posts], [
        ('hello there world', False), ('RT @b: x', True), ('multi\nline post', True)])
    (tmp_path/'b.jsonl').write_text('{"tweet": "one post here", "retweet": 0}\n\n{"tweet": "two", "retweet": 1}\n')
    fct.test_eq([p.repost for p in read_file(tmp_path/'b.jsonl').posts], [False, True])
    (tmp_path/'c.jsonl').write_text('{"tweet": "one"}\nnot json\n')
    with pytest.raises(UserError, match='line 2'): read_file(tmp_path/'c.jsonl')
    (tmp_path/'d.csv').write_text('body_html,x\nhi,1\n')
    with pytest.raises(UserError, match='no text column.*body_html, x'): read_file(tmp_path/'d.csv')
    (tmp_path/'e.xlsx').write_text('x')
    with pytest.raises(UserError, match='must be .csv'): read_file(tmp_path/'e.xlsx')

def test_bare_paths_and_specs(tmp_path, monkeypatch):
    monkeypatch.delenv('X_BEARER_TOKEN', raising=False)
    (tmp_path/'a.txt').write_text('x\n')
    fct.test_eq(parse_spec(str(tmp_path/'a.txt')), Spec('file', str(tmp_path/'a.txt'), f"file:{(tmp_path/'a.txt').resolve()}"))
    fct.test_eq(parse_spec(str(tmp_path)), Spec('archive', str(tmp_path), f'archive:{tmp_path.resolve()}'))
    fct.test_eq(parse_spec('@jack'), Spec('snscrape', 'jack', 'x:jack'))
    monkeypatch.setenv('X_BEARER_TOKEN', 'tok')
    fct.test_eq(parse_spec('jack'), Spec('x', 'jack', 'x:jack'))
    with pytest.raises(UserError, match='mastodon:@user@instance'): parse_spec('mastodon:bob')

@pytest.mark.filterwarnings('ignore:.*characters of kept posts')
def test_archive_avatar_travels_to_the_model_card(tmp_path):
    "An avatar inside the archive is kept beside the cache, copied into the model folder, and named in the card once pushed"
    from huggingtweets.clean import prepare
    from huggingtweets.dataset import make_dataset
    from huggingtweets.train import make_tiny_model, TrainConfig
    from huggingtweets.pipeline import train_and_publish
    from huggingtweets.record import ModelRecord, RECORD
    from huggingtweets.card import render_card
    src, z = make_archive(tmp_path/'src.zip', sample_tweets(300)), tmp_path/'a.zip'
    with zipfile.ZipFile(src) as zs, zipfile.ZipFile(z, 'w') as zf:
        for n in zs.namelist():
            if n != 'data/profile.js': zf.writestr(n, zs.read(n))
        zf.writestr('data/profile.js', 'window.YTD.profile.part0 = [{"profile": {"avatarMediaUrl": "./data/profile_media/pic.png"}}]')
        zf.writestr('data/profile_media/1-pic.png', b'\x89PNG fake')
    c = prepare(f'archive:{z}', tmp_path/'data')
    fct.test_eq(Path(c.account.avatar).read_bytes(), b'\x89PNG fake')
    fct.test_eq(Path(c.account.avatar).parent, c.cache)
    ds = make_dataset([c], seed=0, min_chars=100)
    cfg = TrainConfig(str(make_tiny_model(tmp_path/'tiny')), block_size=64, max_steps=1, device='cpu')
    train_and_publish(ds, tmp_path/'m', cfg, wandb='disabled', data_dir=tmp_path/'data', n=0, memo_n=0, progress=False)
    fct.test_eq((tmp_path/'m'/'avatar-jack.png').read_bytes(), b'\x89PNG fake')
    assert str(tmp_path) not in (tmp_path/'m'/RECORD).read_text() # the record names no folder of this machine
    card = render_card(ModelRecord.load(tmp_path/'m'), 'me/jack', folder=tmp_path/'m')
    assert 'https://huggingface.co/me/jack/resolve/main/avatar-jack.png' in card.content

def test_same_name_other_account_is_not_read_from_the_cache(tmp_path):
    (tmp_path/'a').mkdir(); (tmp_path/'b').mkdir()
    (tmp_path/'a'/'tweets.csv').write_text('text\nfrom the first account here\n')
    (tmp_path/'b'/'tweets.csv').write_text('text\nfrom the second account here\nand another\n')
    assert fetch(f'file:{tmp_path}/a/tweets.csv', tmp_path/'d').posts[0].text.startswith('from the first')
    assert fetch(f'file:{tmp_path}/b/tweets.csv', tmp_path/'d').posts[0].text.startswith('from the second')

def test_underscore_handles_are_distinct():
    assert slugify('_jack') != slugify('jack')
    fct.test_ne(cache_dir('d', parse_spec('x:_jack')), cache_dir('d', parse_spec('x:jack')))

@pytest.mark.parametrize('where', ['data', 'data/tweets.js'])
def test_archive_pointed_at_its_data_folder_or_tweets_js(tmp_path, where):
    make_archive(tmp_path, ['one two three four', 'RT @x: five six'], zipped=False)
    acc = read_archive(tmp_path/where)
    fct.test_eq((acc.handle, [p.repost for p in acc.posts]), ('jack', [False, True]))


# ---------------------------------------------------------------------------------------------------------------
# Identity: one account named many ways is one account

def test_one_file_named_many_ways(tmp_path):
    (tmp_path/'d').mkdir()
    (tmp_path/'d'/'x.csv').write_text('text\nhello there friend\n')
    (tmp_path/'link.csv').symlink_to(tmp_path/'d'/'x.csv')
    specs = [f'file:{tmp_path}/d/x.csv', f'file:{tmp_path}/d/../d/x.csv', f'file:{tmp_path}/link.csv', str(tmp_path/'link.csv')]
    fct.test_eq({parse_spec(s).identity for s in specs}, {f"file:{(tmp_path/'d'/'x.csv').resolve()}"})
    fct.test_eq(len({cache_dir(tmp_path/'data', parse_spec(s)) for s in specs}), 1)

def test_one_archive_named_four_ways(tmp_path):
    (tmp_path/'arch').mkdir()
    make_archive(tmp_path/'arch', sample_tweets(30), zipped=False)
    specs = [f'archive:{tmp_path}/arch', f'archive:{tmp_path}/arch/data', f'archive:{tmp_path}/arch/data/tweets.js', str(tmp_path/'arch'/'data'/'tweets.js')]
    fct.test_eq({parse_spec(s).identity for s in specs}, {f"archive:{(tmp_path/'arch').resolve()}"})
    accs = [fetch(s, tmp_path/'data') for s in specs]
    fct.test_eq([a.posts for a in accs[1:]], [accs[0].posts] * 3)
    fct.test_eq(len(list((tmp_path/'data').rglob(CACHE_NAME))), 1)

@pytest.mark.parametrize('token', ['', 'tok'])
def test_x_handles(monkeypatch, token):
    "`x:Name`, `x:name`, `@name`, `Name`: with a token the API, without it snscrape; one identity and one cache either way"
    monkeypatch.setenv('X_BEARER_TOKEN', token)
    specs = [parse_spec(s) for s in ('x:Name', 'x:name', '@name', 'Name', 'snscrape:NAME')]
    fct.test_eq({s.identity for s in specs}, {'x:name'})
    fct.test_eq([s.source for s in specs[2:4]], ['x', 'x'] if token else ['snscrape', 'snscrape'])
    fct.test_eq(len({cache_dir('d', s) for s in specs}), 1)

@pytest.mark.parametrize('group', [
    ['bluesky:name', 'bluesky:name.bsky.social', 'bluesky:@Name.bsky.social', 'BlueSky: Name '],
    ['mastodon:@User@Mastodon.Social', 'mastodon:user@mastodon.social', 'mastodon:USER@mastodon.SOCIAL'],
])
def test_bluesky_and_mastodon_names(group):
    specs = [parse_spec(s) for s in group]
    fct.test_eq(len({s.identity for s in specs}), 1)
    fct.test_eq(len({cache_dir('d', s) for s in specs}), 1)
    fct.test_ne(parse_spec('bluesky:name.example.com').identity, specs[0].identity)

def test_prepare_all_trains_one_account_named_twice(tmp_path):
    from huggingtweets.clean import prepare_all
    (tmp_path/'d').mkdir()
    (tmp_path/'d'/'x.csv').write_text('text\n' + ''.join(f'"{t}"\n' for t in sample_tweets(40)))
    (tmp_path/'link.csv').symlink_to(tmp_path/'d'/'x.csv')
    with pytest.warns(UserWarning, match='name the same account: it is used once') as ws:
        out = prepare_all([f'file:{tmp_path}/d/x.csv', f'file:{tmp_path}/d/../d/x.csv', f'file:{tmp_path}/link.csv'], tmp_path/'data')
    fct.test_eq(len(out), 1)
    fct.test_eq(len([w for w in ws if 'same account' in str(w.message)]), 2)
    fct.test_eq(out[0].stats.downloaded, 40)

def fake_x(monkeypatch, calls=None):
    "The X source, answering without the network: @jack's posts"
    def fetch_x(v, o, *known, **kw):
        if calls is not None: calls.append(v)
        return Account('jack', 'x', [Post(t, t.startswith('RT @'), str(i)) for i, t in enumerate(sample_tweets(30))], 'Jack')
    monkeypatch.setitem(SOURCES, 'x', replace(SOURCES['x'], fetch=fetch_x))

def test_archive_and_a_file_of_the_same_name_are_two_accounts(tmp_path):
    "'file' is a platform of its own: a CSV whose author is jack is not @jack's X archive"
    from huggingtweets.clean import prepare_all
    z = make_archive(tmp_path/'jack.zip', sample_tweets(30))
    (tmp_path/'posts.csv').write_text('author,text\n' + ''.join(f'jack,"{t}"\n' for t in sample_tweets(20, 'someone')))
    out = prepare_all([f'archive:{z}', f'file:{tmp_path}/posts.csv'], tmp_path/'data')
    fct.test_eq([(c.account.handle, c.account.source, c.stats.downloaded) for c in out], [('jack', 'archive', 30), ('jack', 'file', 20)])

def test_an_archive_and_the_api_of_one_account_come_twice(tmp_path, monkeypatch):
    from huggingtweets.clean import prepare_all
    calls = []
    fake_x(monkeypatch, calls)
    z = make_archive(tmp_path/'jack.zip', sample_tweets(30))
    with pytest.raises(UserError, match=re.escape(f'@jack comes twice, from archive:{z} and x:Jack: give it once')):
        prepare_all([f'archive:{z}', 'x:Jack'], tmp_path/'data', opts=sources.FetchOptions(x_token='tok', progress=False))
    with pytest.warns(UserWarning, match='same account'):
        out = prepare_all(['x:Jack', '@jack', 'jack'], tmp_path/'data2', opts=sources.FetchOptions(x_token='tok', progress=False))
    fct.test_eq((len(out), calls), (1, ['Jack', 'Jack']))


# ---------------------------------------------------------------------------------------------------------------
# The cache

def test_two_tweets_csv_never_overwrite_each_other(tmp_path):
    for k, who in enumerate(('first', 'second')):
        (tmp_path/who).mkdir()
        (tmp_path/who/'tweets.csv').write_text('text\n' + ''.join(f'"{who} account, post {i}"\n' for i in range(k + 2)))
    specs = [f'file:{tmp_path}/{who}/tweets.csv' for who in ('first', 'second')]
    for _ in range(2): accs = [fetch(s, tmp_path/'data') for s in specs]
    fct.test_eq([len(a.posts) for a in accs], [2, 3])
    dirs = [cache_of(tmp_path/'data', s).parent for s in specs]
    fct.test_ne(dirs[0], dirs[1])
    assert all(d.name.startswith('tweets-') for d in dirs)
    fct.test_eq([load_cache(d/CACHE_NAME)[0].posts[0].text for d in dirs], ['first account, post 0', 'second account, post 0'])

def test_a_changed_file_is_read_again(tmp_path):
    p = tmp_path/'posts.txt'
    p.write_text('one post here\n')
    fct.test_eq([q.text for q in fetch(f'file:{p}', tmp_path/'data').posts], ['one post here'])
    p.write_text('one post HERE\n') # the same size: its time tells
    st = p.stat(); os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    fct.test_eq([q.text for q in fetch(f'file:{p}', tmp_path/'data').posts], ['one post HERE'])
    p.write_text('one post here\nand a second\n')
    fct.test_eq(len(fetch(f'file:{p}', tmp_path/'data').posts), 2)

@pytest.mark.parametrize('damage', [b'', b'not json\n', b'{"account": {"handle": "jack"}}\n', b'{"nope": 1}\n', b'[1, 2]\n',
                                    b'{"account": {"handle": "jack", "source": "file"}}\n{"text": "a", "extra": 1}\n', b'\xff\xfe\x00junk'])
def test_a_damaged_cache_says_what_to_do(tmp_path, damage):
    p = tmp_path/'posts.txt'
    p.write_text('one post here\n')
    fetch(f'file:{p}', tmp_path/'data')
    c = cache_of(tmp_path/'data', f'file:{p}')
    c.write_bytes(damage)
    with pytest.raises(UserError, match=r'The cache .* is damaged: delete it, or fetch again with refresh'): fetch(f'file:{p}', tmp_path/'data')
    fct.test_eq([q.text for q in fetch(f'file:{p}', tmp_path/'data', refresh=True).posts], ['one post here'])
    fct.test_eq(load_cache(c)[0].posts, [Post('one post here')])

def test_a_failed_refresh_keeps_the_old_cache(tmp_path):
    z = make_archive(tmp_path/'a.zip', sample_tweets(30))
    fetch(f'archive:{z}', tmp_path/'data')
    c = cache_of(tmp_path/'data', f'archive:{z}')
    before = c.read_bytes()
    z.write_bytes(z.read_bytes()[:500]) # the archive, cut short
    with pytest.raises(UserError, match='is not a zip file'): fetch(f'archive:{z}', tmp_path/'data', refresh=True)
    fct.test_eq(c.read_bytes(), before)
    fct.test_eq(leftovers(tmp_path/'data'), [])

def test_a_remote_account_is_cached_until_refresh(tmp_path, monkeypatch):
    calls = []
    fake_x(monkeypatch, calls)
    opts = sources.FetchOptions(x_token='tok', progress=False)
    a = fetch('x:Jack', tmp_path/'data', opts=opts)
    fct.test_eq(fetch('@jack', tmp_path/'data', opts=opts), a)
    fct.test_eq(calls, ['Jack'])
    fetch('jack', tmp_path/'data', refresh=True, opts=opts)
    fct.test_eq(calls, ['Jack', 'jack'])


# ---------------------------------------------------------------------------------------------------------------
# Temporary files left by killed processes

def holder(path):
    "A process that holds the lock of `path` (as a live writer holds its temporary file's) until killed"
    c = subprocess.Popen([sys.executable, '-c', 'import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_EX); print("held", flush=True); time.sleep(120)', str(path)],
                         stdout=subprocess.PIPE, text=True)
    assert c.stdout.readline().strip() == 'held'
    return c

def test_stale_temp_files_are_swept_on_the_next_write(tmp_path):
    "What no live process holds is swept, whatever process id its name holds (ours, PID 1's, one of another PID namespace); what a live writer holds is kept"
    import fcntl
    data = tmp_path/'data'
    p = tmp_path/'posts.txt'
    p.write_text('one post here\n')
    folder = cache_of(data, f'file:{p}').parent
    folder.mkdir(parents=True)
    dead, me = dead_pid(), os.getpid()
    names = {'dead': f'.posts.jsonl.tmp-{dead}-abc123', 'held': f'.posts.jsonl.tmp-{dead}-def456', 'me': f'.posts.jsonl.tmp-{me}-ghi789',
             'pid 1': f'.posts.jsonl.tmp-1-mno345', 'held by me': f'.posts.jsonl.tmp-{me}-pqr678',
             'other file': f'.stats.json.tmp-{dead}-jkl012'} # another file's: swept when that file is written
    for n in names.values(): (folder/n).write_text('{"half": ')
    (folder/f'.avatar.tmp-{dead}-dir').mkdir()
    child = holder(folder/names['held']) # a live writer, its process id unknown here (another PID namespace)
    mine = os.open(folder/names['held by me'], os.O_RDONLY); fcntl.flock(mine, fcntl.LOCK_EX)
    try:
        fetch(f'file:{p}', data)
        fct.test_eq(sorted(q.name for q in folder.iterdir() if q.name.startswith('.')),
                    sorted([names['held'], names['held by me'], names['other file'], f'.avatar.tmp-{dead}-dir']))
        fct.test_eq(sorted(q.name for q in sweep_stale(folder)), sorted([names['other file'], f'.avatar.tmp-{dead}-dir']))
        fct.test_eq(load_cache(folder/CACHE_NAME)[0].posts, [Post('one post here')])
    finally: child.kill(); child.wait(); os.close(mine)
    fct.test_eq(sorted(q.name for q in sweep_stale(folder)), sorted([names['held'], names['held by me']])) # their writers gone: swept

HOLD_DIR = textwrap.dedent('''
    import sys, time
    from huggingtweets.core import AtomicDir
    with AtomicDir(sys.argv[1]) as tmp:
        (tmp/'half.txt').write_text('half of it')
        print(tmp, flush=True)
        time.sleep(120)
''')

def holding(dest):
    "A process inside `AtomicDir(dest)`, and the temporary folder it writes"
    p = subprocess.Popen([sys.executable, '-c', HOLD_DIR, str(dest)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return p, Path(p.stdout.readline().strip())

def test_a_killed_writer_leaves_its_folder_to_the_next(tmp_path):
    "kill -9 inside AtomicDir: the old folder stands; the next writer sweeps the dead one's temporary folder, not a live one's"
    dest = tmp_path/'dataset'
    with AtomicDir(dest) as t: (t/'x.txt').write_text('old')
    killed, killed_tmp = holding(dest)
    running, running_tmp = holding(dest)
    try:
        killed.kill(); killed.wait()
        assert killed_tmp.is_dir() and running_tmp.is_dir()
        fct.test_eq((dest/'x.txt').read_text(), 'old')
        with AtomicDir(dest) as t: (t/'x.txt').write_text('new')
        fct.test_eq((killed_tmp.exists(), running_tmp.exists(), (dest/'x.txt').read_text()), (False, True, 'new'))
        fct.test_eq(leftovers(tmp_path), [running_tmp.name])
    finally:
        running.kill(); running.wait()

def test_a_killed_atomic_write_leaves_the_file_whole(tmp_path):
    "kill -9 between writing the temporary file and renaming it: the old file stands, and the next write sweeps the rest"
    f = tmp_path/'posts.jsonl'
    atomic_write(f, 'old\n')
    script = ('import os, sys, time\nfrom huggingtweets import core\n'
              'core.os.replace = lambda *a: (print("written", flush=True), time.sleep(120))\n'
              'core.atomic_write(sys.argv[1], "new, but never renamed\\n" * 1000)\n')
    p = subprocess.Popen([sys.executable, '-c', script, str(f)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try: fct.test_eq(p.stdout.readline().strip(), 'written')
    finally: p.kill(); p.wait()
    fct.test_eq((f.read_text(), len(leftovers(tmp_path))), ('old\n', 1))
    atomic_write(f, 'newer\n')
    fct.test_eq((f.read_text(), leftovers(tmp_path)), ('newer\n', []))

def test_an_interrupt_inside_the_swap_keeps_a_folder(tmp_path, monkeypatch):
    dest = tmp_path/'dataset'
    with AtomicDir(dest) as t: (t/'x.txt').write_text('old')
    real, n = os.replace, []
    def replace_then_interrupt(a, b):
        n.append(1)
        if len(n) == 2: raise KeyboardInterrupt('signal 15') # the SIGTERM arrives between the renames
        return real(a, b)
    monkeypatch.setattr(core.os, 'replace', replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        with AtomicDir(dest) as t: (t/'x.txt').write_text('new')
    monkeypatch.setattr(core.os, 'replace', real)
    assert (dest/'x.txt').is_file(), f'no {dest.name} left: {leftovers(tmp_path)}'


# ---------------------------------------------------------------------------------------------------------------
# SIGTERM

SLOW_DATASET = textwrap.dedent('''
    import sys, time, datasets
    from huggingtweets import cli
    save = datasets.DatasetDict.save_to_disk
    def slow(self, *a, **kw):
        save(self, *a, **kw)
        print('saving', flush=True)
        time.sleep(120)
    datasets.DatasetDict.save_to_disk = slow
    sys.exit(cli.main(sys.argv[1:]))
''')

def test_sigterm_during_dataset_keeps_the_previous_one(tmp_path):
    "`huggingtweets dataset` stopped by SIGTERM while writing: exit 130, 'Interrupted', no temporary folder, the old dataset intact"
    from huggingtweets import cli
    from huggingtweets.dataset import load_dataset
    (tmp_path/'posts.txt').write_text('\n'.join(sample_tweets(300)) + '\n')
    out = tmp_path/'ds'
    args = ['dataset', f'file:{tmp_path}/posts.txt', '--out', str(out), '--data-dir', str(tmp_path/'data')]
    fct.test_eq(cli.main(args + ['--seed', '1']), 0)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob('*') if p.is_file()}
    with open(tmp_path/'stderr.txt', 'w') as err:
        p = subprocess.Popen([sys.executable, '-c', SLOW_DATASET, *args, '--seed', '2'], stdout=subprocess.PIPE, stderr=err, text=True, cwd=tmp_path)
        try:
            while (line := p.stdout.readline()) and line.strip() != 'saving': pass
            fct.test_eq(line.strip(), 'saving')
            fct.test_eq(len([q for q in tmp_path.iterdir() if q.name.startswith('.ds.tmp-')]), 1) # half a dataset, being written
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
        finally:
            if p.poll() is None: p.kill(); p.wait()
    fct.test_eq(p.returncode, 130)
    assert 'Interrupted' in (tmp_path/'stderr.txt').read_text(), (tmp_path/'stderr.txt').read_text()
    fct.test_eq(leftovers(tmp_path), [])
    fct.test_eq({q.relative_to(out): q.read_bytes() for q in out.rglob('*') if q.is_file()}, before)
    fct.test_eq(load_dataset(out).info.seed, 1)

def test_two_files_of_one_name_are_two_accounts_to_rename(tmp_path):
    "Two people's files both named tw.txt: not one account named twice, and the message says to rename one"
    from huggingtweets.clean import prepare_all
    for d in ('a', 'b'):
        (tmp_path/d).mkdir()
        (tmp_path/d/'tw.txt').write_text(''.join(t + '\n' for t in sample_tweets(20, d)))
    with pytest.raises(UserError, match=re.escape('Two accounts are named @tw, from file:') + '.*rename one of the files'):
        prepare_all([f'file:{tmp_path}/a/tw.txt', f'file:{tmp_path}/b/tw.txt'], tmp_path/'data')


# ---------------------------------------------------------------------------------------------------------------
# Hostile inputs, second round (issue 20)

def test_a_hard_link_is_one_account(tmp_path):
    from huggingtweets.clean import prepare_all
    (tmp_path/'x.csv').write_text('text\n' + ''.join(f'"{t}"\n' for t in sample_tweets(40)))
    os.link(tmp_path/'x.csv', tmp_path/'y.csv')
    with pytest.warns(UserWarning, match='name the same account: it is used once'):
        out = prepare_all([f'file:{tmp_path}/x.csv', f'file:{tmp_path}/y.csv'], tmp_path/'data')
    fct.test_eq(len(out), 1)

def test_non_ascii_names_never_share_a_model_name(tmp_path):
    "Files named in Cyrillic, Japanese or with accents: each its own model name and cache, safe for the Hub"
    from huggingtweets.dataset import model_name
    from huggingface_hub.utils import validate_repo_id
    names = ['дмитрий', 'анна', '日本語', 'José', 'jose', 'jöse'] # (José and josé: one handle, as handles are case-blind)
    slugs = [slugify(n) for n in names]
    fct.test_eq(len(set(slugs)), len(names))
    for n, s in zip(names, slugs):
        validate_repo_id(f'me/{model_name([n])}')
        if not n.isascii(): assert re.fullmatch(r'[a-z0-9._-]+-[0-9a-f]{6}', s), s
    fct.test_eq(slugify('José')[:5], 'jose-')
    accs = []
    for n in names[:2]:
        (tmp_path/f'{n}.txt').write_text(''.join(f'{n} wrote post number {i} today\n' for i in range(5)), encoding='utf-8')
        accs.append(fetch(f'file:{tmp_path}/{n}.txt', tmp_path/'data'))
    fct.test_ne(accs[0].slug, accs[1].slug)

def test_names_from_outside_reach_no_terminal_raw(tmp_path, capsys):
    "An archive's display name with terminal escapes and newlines: plain text in the account, the stats table and the dataset"
    from huggingtweets.cli import main
    evil = 'Jack\x1b]0;pwned\x07\x1b[2J\x1b[31m Red\nSecond line\u202e'
    z = make_archive(tmp_path/'a.zip', sample_tweets(300), handle='jack\x1b[2J', name=evil)
    acc = fetch(f'archive:{z}', tmp_path/'data')
    fct.test_eq((acc.handle, acc.user_name), ('jack', 'Jack Red Second line'))
    assert main(['dataset', f'archive:{z}', '--data-dir', str(tmp_path/'data'), '--out', str(tmp_path/'ds')]) == 0
    out, err = capsys.readouterr()
    assert '\x1b' not in out + err and '\x07' not in out + err
    assert '\x1b' not in (tmp_path/'ds'/'dataset.json').read_text()

def test_lone_surrogates_are_repaired_with_a_count(tmp_path):
    "A JSON post holding half a UTF-16 pair (valid JSON, but no text): the character becomes U+FFFD, the count is noted, the cache writes"
    p = tmp_path/'posts.jsonl'
    p.write_text('{"text": "fine post number one"}\n{"text": "broken \\ud83d here"}\n{"text": "and \\udc00 two"}\n')
    with pytest.warns(UserWarning, match=r'2 posts of @posts held broken characters'):
        acc = fetch(f'file:{p}', tmp_path/'data')
    fct.test_eq([q.text for q in acc.posts], ['fine post number one', 'broken \ufffd here', 'and \ufffd two'])
    fct.test_eq(load_cache(cache_of(tmp_path/'data', f'file:{p}'))[0].posts, acc.posts)

def test_a_live_writer_in_another_pid_namespace_keeps_its_folder(tmp_path):
    "A writer whose process id means nothing here (a container, a shared folder): its folder is named after a dead id, but its lock keeps it"
    dest = tmp_path/'model'
    script = textwrap.dedent(f'''
        import os, sys, time
        from huggingtweets import core
        core.os.getpid = lambda: {dead_pid()} # as seen from another PID namespace
        with core.AtomicDir(sys.argv[1]) as tmp:
            (tmp/'weights.bin').write_text('trained for hours')
            print(tmp, flush=True)
            time.sleep(120)
    ''')
    p = subprocess.Popen([sys.executable, '-c', script, str(dest)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        tmp = Path(p.stdout.readline().strip())
        with AtomicDir(dest) as t: (t/'x.txt').write_text('another run')
        fct.test_eq(sweep_stale(tmp_path), [])
        fct.test_eq((tmp/'weights.bin').read_text(), 'trained for hours')
    finally: p.kill(); p.wait()
    fct.test_eq([q.name for q in sweep_stale(tmp_path)], [tmp.name]) # its writer gone: swept, under any process id

COMMITS = textwrap.dedent('''
    import sys
    from huggingtweets.core import AtomicDir
    for i in range(150):
        with AtomicDir(sys.argv[1]) as t:
            for k in range(5): (t/f'part{k}.txt').write_text(sys.argv[2])
''')

def test_concurrent_commits_to_one_folder(tmp_path):
    "Three writers swapping folders into one place at once: each swap waits its turn (no 'Directory not empty'), and the folder is always one writer's whole"
    dest = tmp_path/'model'
    ps = [subprocess.Popen([sys.executable, '-c', COMMITS, str(dest), who], stderr=subprocess.PIPE, text=True, cwd=ROOT) for who in ('a', 'b', 'c')]
    errs = [p.communicate(timeout=120)[1] for p in ps]
    fct.test_eq([p.returncode for p in ps], [0, 0, 0])
    assert not any(errs), errs
    fct.test_eq(len({q.read_text() for q in dest.iterdir()}), 1)
    fct.test_eq(sorted(q.name for q in dest.iterdir()), [f'part{k}.txt' for k in range(5)])
    fct.test_eq(leftovers(tmp_path), [])

def test_a_second_run_on_one_model_is_refused(tmp_path):
    "While a run writes models/jack (in any process), a second one is refused with one sentence; after it, the next one may run"
    script = textwrap.dedent('''
        import sys, time
        from huggingtweets.core import one_run
        with one_run(sys.argv[1]):
            print('running', flush=True)
            time.sleep(120)
    ''')
    dest = tmp_path/'models'/'jack'
    p = subprocess.Popen([sys.executable, '-c', script, str(dest)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        fct.test_eq(p.stdout.readline().strip(), 'running')
        with pytest.raises(UserError, match=f'Another huggingtweets run is writing {re.escape(str(dest))} now: wait for it to finish'):
            with core.one_run(dest): pass
        with core.one_run(tmp_path/'models'/'other'): pass # another model: no wait
    finally: p.kill(); p.wait()
    with core.one_run(dest): pass
    fct.test_eq(list((tmp_path/'models').iterdir()), []) # no lock file left
