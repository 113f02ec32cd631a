"""`fetch bluesky:HANDLE`, `update` and the bot against the reference Bluesky stack (PLC, PDS, AppView of
`bash tools/bsky/start.sh`), on accounts made and posted to here: what the stand-ins of test_social.py and
test_bot.py cannot show. Without the stack these tests skip (CI=true: they fail)."""
import json
from pathlib import Path
import httpx
import pytest
import fastcore.test as fct
from huggingtweets.cli import main
from huggingtweets.clean import curate
from huggingtweets.sources import load_cache
from util import readable_tiny_model
from bsky_stack import load_stack

WORDS = 'river lantern orchard copper meadow harbor violet thunder pebble saffron glacier ember willow cobalt quartz'.split()

def long_text(i:int)->str:
    "A plain post of 200 to 280 characters, different for each `i`"
    words = [WORDS[(i * 7 + k * (i % 4 + 1)) % len(WORDS)] for k in range(60)]
    t = f'Note {i} from the orchard:'
    for w in words:
        if len(t) + len(w) + 1 > 200 + (i * 37) % 80: break
        t += ' ' + w
    return t

LONG = ('x' * 9 + ' ') * 29 + 'y' * 10 # 300 characters: Bluesky's longest post
FAMILY = 'Family time \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 under the flag \U0001F1EB\U0001F1F7 tonight'
URL = 'https://example.com/a/long/path?x=1'

def cli(capsys, *args):
    "`huggingtweets ARGS` in this process: its exit code, stdout and stderr"
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err

def seed(bsky, author, friend, n_plain:int=24)->list[tuple]:
    """Post to `author`'s feed what a real account holds: plain posts, a 300-character one, emoji, a link facet, HTML
    entities, short posts, a lone hashtag (short too), a reply to another account, a reply in its own thread, a multi-line post, and
    reposts of another's post and of its own. Returns (uri, repost, text, why dropped or '', cleaned text) for each item
    the author's feed shows, as the project's rules judge it"""
    from atproto import client_utils, models
    a, f = bsky.client(author), bsky.client(friend)
    f1 = f.send_post('A friend of the author posts this, about the harbor at night')
    f2 = f.send_post('Another post by the friend, one the author will repost')
    bsky.wait_visible(f1.uri, f2.uri)
    ref = models.create_strong_ref
    out = []
    def post(text, clean='same', why='', **kw):
        r = a.send_post(text, **kw)
        out.append((r.uri, False, str(text if isinstance(text, str) else text.build_text()), why, text if clean == 'same' else clean))
        return r
    plain = [models.ComAtprotoRepoApplyWrites.Create(collection='app.bsky.feed.post', value={
        '$type': 'app.bsky.feed.post', 'text': long_text(i), 'createdAt': a.get_current_time_iso()}) for i in range(n_plain)]
    done = a.com.atproto.repo.apply_writes(models.ComAtprotoRepoApplyWrites.Data(repo=author.did, writes=plain)).results # in one call: quicker
    out += [(r.uri, False, long_text(i), '', long_text(i)) for i, r in enumerate(done)]
    first = done[0]
    post(LONG)
    post(FAMILY)
    post(client_utils.TextBuilder().text('Read this ').link(URL, URL).text(' today friends'), 'Read this today friends')
    post('Fish &amp; chips &lt;3 by the sea &gt; anything', 'Fish & chips <3 by the sea > anything')
    post('ok then', why='short')
    post('lol', why='short')
    post('#huggingtweets', why='short') # fewer than 3 words without http, @ or #: the original's rule
    post('@friend I agree with you on this one', reply_to=models.AppBskyFeedPost.ReplyRef(parent=ref(f1), root=ref(f1)))
    post('And one more thing about that first note', reply_to=models.AppBskyFeedPost.ReplyRef(parent=ref(first), root=ref(first)))
    out.append((f2.uri, True, 'Another post by the friend, one the author will repost', 'repost', '')); a.repost(f2.uri, f2.cid)
    out.append((first.uri, True, long_text(0), 'repost', '')); a.repost(first.uri, first.cid)
    last = post('line one\n\nline two   spaced\tout', 'line one line two spaced out') # last: once it shows, the AppView has the rest
    bsky.wait_visible(last.uri)
    return out

def cached(data:Path):
    "The one account cached under `data` (the files that `fetch` wrote): the account and its stats"
    [d] = [p for p in data.iterdir() if (p/'posts.jsonl').exists()]
    return load_cache(d/'posts.jsonl')[0], json.loads((d/'stats.json').read_text())

def counts(items:list[tuple])->dict:
    kept = [c for *_, why, c in items if not why]
    return dict(downloaded=len(items), retweets=sum(why == 'repost' for *_, why, _ in items),
                short=sum(why == 'short' for *_, why, _ in items), kept=len(kept))

@pytest.fixture(scope='module')
def appview(bsky):
    "`fetch` reads Bluesky from the stack's AppView"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('HUGGINGTWEETS_BLUESKY_URL', bsky.appview)
        yield bsky.appview

def test_fetch_a_real_feed(bsky, appview, tmp_path, capsys):
    "`fetch bluesky:HANDLE` on a real account: every post and repost once, with the counts and kept texts the cleaning rules give; the handle resolved to the DID that PLC holds"
    author, friend = bsky.account('author'), bsky.account('friend')
    items = seed(bsky, author, friend, n_plain=20)
    rc, out, err = cli(capsys, 'fetch', f'bluesky:{author.handle}', '--data-dir', tmp_path)
    assert rc == 0, err
    acc, stats = cached(tmp_path)
    fct.test_eq(sorted((p.id, p.repost, p.text) for p in acc.posts), sorted((u, r, t) for u, r, t, *_ in items))
    want = counts(items) # 20 plain posts, 10 others (3 of them short), 2 reposts
    fct.test_eq(want, dict(downloaded=32, retweets=2, short=3, kept=27))
    fct.test_eq({k: stats[k] for k in want}, want)
    for label, k in [('Tweets downloaded', 'downloaded'), ('Retweets', 'retweets'), ('Short tweets', 'short'), ('Tweets kept', 'kept')]:
        assert any(l.startswith(label) and l.split()[-1] == str(want[k]) for l in out.splitlines()), out
    fct.test_eq(sorted(curate(acc).texts), sorted(c for *_, why, c in items if not why))
    doc = httpx.get(f'{bsky.plc}/{author.did}', timeout=10).json() # the identity the AppView resolved the handle through
    fct.test_eq((doc['alsoKnownAs'], acc.identity, acc.handle), ([f'at://{author.handle}'], f'bluesky:{author.did}', author.handle))
    rc, out2, err = cli(capsys, 'fetch', f'bluesky:{author.did}', '--data-dir', tmp_path/'by-did') # the DID names the same account
    assert rc == 0, err
    fct.test_eq(out2.splitlines()[1:], out.splitlines()[1:]) # the same handle and counts, after the line that names the spec
    rc, out3, err = cli(capsys, 'fetch', f'bluesky:{author.handle}', f'bluesky:{author.did}', '--data-dir', tmp_path)
    assert rc == 0 and f'bluesky:{author.did} and bluesky:{author.handle} name the same account: it is used once.' in out3, out3 + err

@pytest.fixture(scope='module')
def trained(bsky, appview, tmp_path_factory):
    "A tiny model trained with `huggingtweets train bluesky:HANDLE` on a real account's feed (6,000 characters and more)"
    tmp = tmp_path_factory.mktemp('bsky-trained')
    author, friend = bsky.account('source'), bsky.account('pal')
    items = seed(bsky, author, friend)
    tiny = readable_tiny_model(tmp/'tiny', [c for *_, c in items if c])
    rc = main([str(a) for a in ('train', f'bluesky:{author.handle}', '--base-model', tiny, '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled',
                                '--memo-n', 0, '--data-dir', tmp/'data', '--out', tmp/'model')])
    assert rc == 0
    return tmp, author, items

def test_update_adds_only_the_new_posts(bsky, trained, capsys):
    "`update` after more posts: the new ones are added to the cache and trained on; a post deleted since stays, as the old posts are not fetched again"
    tmp, author, items = trained
    a = bsky.client(author)
    new = [a.send_post(f'A newer post, number {i}, written after the model was trained') for i in range(3)]
    gone = items[1][0]
    a.delete_post(gone)
    bsky.wait_visible(*(r.uri for r in new))
    rc, out, err = cli(capsys, 'update', tmp/'model', '--wandb', 'disabled', '--memo-n', 0, '-n', 0)
    assert rc == 0, out + err
    acc, stats = cached(tmp/'data')
    fct.test_eq(sorted((p.id, p.repost) for p in acc.posts), sorted([(r.uri, False) for r in new] + [(u, r) for u, r, *_ in items]))
    fct.test_eq(stats['downloaded'], len(items) + 3)
    assert any(l.startswith('Tweets downloaded') and l.split()[-1] == str(len(items) + 3) for l in out.splitlines()), out
    assert 'Version 2:' in out, out

def test_bot_posts_on_a_self_hosted_pds(bsky, trained, capsys, monkeypatch):
    "`bot --to bluesky:HANDLE --base-url PDS` with a handle on a self-hosted PDS: one post, tagged, that the AppView shows in the bot's feed"
    from atproto import models
    tmp, *_ = trained
    me = bsky.account('bot')
    c = bsky.client(me) # labelled both ways: the description's line, and the `bot` self-label of the protocol
    c.com.atproto.repo.put_record(models.ComAtprotoRepoPutRecord.Data(repo=me.did, collection='app.bsky.actor.profile', rkey='self', record={
        '$type': 'app.bsky.actor.profile', 'displayName': 'A test bot', 'description': 'Automated: a language model writes these posts (huggingtweets)',
        'labels': {'$type': 'com.atproto.label.defs#selfLabels', 'values': [{'val': 'bot'}]}}))
    monkeypatch.setenv('BLUESKY_APP_PASSWORD', me.app_password)
    monkeypatch.delenv('HUGGINGTWEETS_BLUESKY_PDS', raising=False)
    rc, out, err = cli(capsys, 'bot', tmp/'model', '--to', f'bluesky:{me.handle}', '--base-url', bsky.pds, '--tag', '#testbot', '--seed', 1)
    assert rc == 0, out + err
    [rec] = c.com.atproto.repo.list_records({'repo': me.did, 'collection': 'app.bsky.feed.post'}).records
    assert rec.value.text.endswith('#testbot'), rec.value.text
    bsky.wait_visible(rec.uri)
    feed = httpx.get(f'{bsky.appview}/xrpc/app.bsky.feed.getAuthorFeed', params={'actor': me.handle}, timeout=10).json()['feed']
    fct.test_eq([i['post']['uri'] for i in feed], [rec.uri])
    assert me.app_password not in out + err and me.password not in out + err

@pytest.mark.parametrize('text', [None, '', '[1]', '{"pds": 1}', '{"pds": "http://127.0.0.1:9", "appview": "http://127.0.0.1:9", "plc": "http://127.0.0.1:9"}'])
def test_without_the_stack_its_tests_skip_or_fail_under_ci(tmp_path, monkeypatch, text):
    "No stack file, a damaged one, or servers that do not answer: a skip that says how to start the stack; under CI=true, a failure"
    f = tmp_path/'stack.json'
    if text is not None: f.write_text(text)
    monkeypatch.setenv('HUGGINGTWEETS_BSKY_STACK', str(f))
    monkeypatch.delenv('CI', raising=False)
    with pytest.raises(pytest.skip.Exception, match=r'not running \(.+\): start it with `bash tools/bsky/start.sh`$'): load_stack()
    monkeypatch.setenv('CI', 'true')
    with pytest.raises(pytest.fail.Exception, match='CI must run these tests'): load_stack()

def test_update_sees_a_new_repost_of_a_cached_post(bsky, appview, tmp_path, capsys):
    "A repost made after the cache, of a post in the cache: `update` counts it as a fresh `fetch` does"
    author = bsky.account('reposter')
    a = bsky.client(author)
    posts = [a.send_post(f'Post number {i} of an account that reposts itself') for i in range(3)]
    bsky.wait_visible(posts[-1].uri)
    assert cli(capsys, 'fetch', f'bluesky:{author.handle}', '--data-dir', tmp_path/'data')[0] == 0
    a.repost(posts[0].uri, posts[0].cid)
    bsky.wait_visible(a.send_post('A new post after the repost').uri)
    from huggingtweets.clean import prepare
    updated = prepare(f'bluesky:{author.handle}', tmp_path/'data', update=True).stats
    fresh = prepare(f'bluesky:{author.handle}', tmp_path/'fresh').stats
    fct.test_eq((updated.downloaded, updated.retweets), (fresh.downloaded, fresh.retweets))

def test_start_and_stop_leave_a_folder_of_the_users_alone(tmp_path):
    """HUGGINGTWEETS_BSKY_STACK in a folder that holds the user's own files (their home, /tmp): start.sh would open it to everyone
    (chmod 755) and remove its `tmp`, `pg` and `redis`, stop.sh would remove them: both refuse in one sentence and touch nothing"""
    import os, socket, subprocess
    root = Path(__file__).parents[1]/'tools'/'bsky'
    home = tmp_path/'home'; (home/'tmp').mkdir(parents=True); (home/'tmp'/'keep').write_text('mine'); (home/'notes').write_text('mine')
    home.chmod(0o700)
    with socket.socket() as s: # a port of the stack taken: were the folder accepted, start.sh stops there, before it installs or starts anything
        s.bind(('127.0.0.1', 0)); s.listen(); base = s.getsockname()[1] - 2
        env = {**os.environ, 'HUGGINGTWEETS_BSKY_STACK': str(home/'stack.json'), 'HUGGINGTWEETS_BSKY_PORT': str(base)}
        p = subprocess.run(['bash', str(root/'start.sh')], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and f"{home} holds files that are not the stack's (" in p.stderr, p.stdout + p.stderr
    assert home.stat().st_mode & 0o777 == 0o700 and (home/'tmp'/'keep').read_text() == 'mine'
    (home/'stack.json').write_text(json.dumps({'pds': 'http://127.0.0.1:9', 'appview': 'http://127.0.0.1:9', 'plc': 'http://127.0.0.1:9', 'pids': []}))
    p = subprocess.run(['bash', str(root/'stop.sh')], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and 'nothing stopped or removed' in p.stderr, p.stdout + p.stderr
    assert (home/'tmp'/'keep').read_text() == 'mine' and (home/'notes').exists() and (home/'stack.json').exists()
