"`huggingtweets bot` against local Bluesky PDS and Mastodon stand-ins (tests/fakeserver.py): every request recorded, nothing on the network."
import base64, json, os, re, signal, sqlite3, threading, time
from pathlib import Path
from urllib.parse import parse_qs
import pytest
import fastcore.test as fct
from fakeserver import FakeServer, reply
from huggingtweets import bot as hbot
from huggingtweets.bot import DEFAULT_TAG, STATE, BotState, bot, run_bot
from huggingtweets.social import graphemes
from huggingtweets.cli import main
from huggingtweets.core import UserError
from huggingtweets.dataset import AccountInfo, DatasetInfo
from huggingtweets.clean import Stats
from huggingtweets.record import ModelRecord
from huggingtweets.train import TrainResult
from util import readable_tiny_model, sample_tweets

PASSWORD = 'abcd-efgh-ijkl-mnop' # shaped like a Bluesky app password
MAIN_PASSWORD = 'correct horse battery staple' # the account's own password
TOKEN = 'ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0' # shaped like a Mastodon access token
BOT_DID, ALICE_DID, OTHER_DID = 'did:plc:bot4bot4bot4bot4bot4bot4', 'did:plc:alicealicealicealicealic', 'did:plc:friendfriendfriendfriendf'

def no_secret(*texts):
    "No text shows the password or the token"
    for t in texts: assert PASSWORD not in t and TOKEN not in t and MAIN_PASSWORD not in t, t

@pytest.fixture(scope='module')
def model(tmp_path_factory):
    "A tiny model folder with the record `train` writes: trained on @Alice on Mastodon and on Bluesky"
    folder = readable_tiny_model(tmp_path_factory.mktemp('bot')/'alice', sample_tweets(200, 'alice'))
    (folder/'training-posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(200, 'alice')), encoding='utf-8')
    def acc(handle, source, spec): return AccountInfo(handle, 'Alice', source, spec, Stats(handle, 'Alice', source, 200, 20, 20, 160, 9000))
    ds = DatasetInfo('alice-alice.bsky.social', [acc('Alice@example.social', 'mastodon', 'mastodon:@Alice@example.social'),
                                                 acc('alice.bsky.social', 'bluesky', 'bluesky:alice.bsky.social')], 0, 4, 0.1)
    ModelRecord(ds, TrainResult(3.0, 3.1, 3.2, 4.0, 22.0, 3, 1000, 1.0, 'cpu', 'trainer', config={'base_model': 'gpt2'})).save(folder)
    return folder

@pytest.fixture
def folder(model, tmp_path):
    "The model, in a folder of the test's own (its bot state starts empty)"
    import shutil
    return Path(shutil.copytree(model, tmp_path/'model'))

def b64url(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')
def jwt(sub, scope='com.atproto.appPass'): return '.'.join([b64url({'alg': 'ES256K', 'typ': 'at+jwt'}), b64url({'scope': scope, 'sub': sub, 'iat': int(time.time()), 'exp': int(time.time()) + 7200, 'aud': 'did:web:pds.example'}), 'c2lnbmF0dXJl'])
def cid(n): return 'bafyrei' + f'{n:052d}'.translate(str.maketrans('0123456789', 'abcdefgh23'))

class FakePDS:
    "A Bluesky PDS (with its PLC directory) that resolves handles, creates records, lists them and serves notifications, in the API's shapes"
    def __init__(self, server, handle='bot.example.com', did=BOT_DID, labelled=True, profile=None):
        self.server, self.handle, self.did, self.records, self.notifications = server, handle, did, [], []
        self.profile = dict(profile or {'$type': 'app.bsky.actor.profile', 'displayName': 'Alice bot', 'description': 'Posts by a model.'})
        if labelled: self.profile['labels'] = {'$type': 'com.atproto.label.defs#selfLabels', 'values': [{'val': 'bot'}]}
        self.profile_cid, self.fail_create = cid(500), [] # fail_create: responses served to createRecord first
        s = server
        s.on('POST', '/xrpc/com.atproto.server.createSession', self.session)
        s.on('GET', '/xrpc/com.atproto.identity.resolveHandle', lambda r: reply({'did': did}) if r.param('handle') == handle else reply({'error': 'InvalidRequest', 'message': 'Unable to resolve handle'}, 400))
        s.on('GET', f'/{did}', lambda r: reply({'@context': ['https://www.w3.org/ns/did/v1'], 'id': did, 'alsoKnownAs': [f'at://{handle}'],
                                                'verificationMethod': [{'id': f'{did}#atproto', 'type': 'Multikey', 'controller': did, 'publicKeyMultibase': 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF'}],
                                                'service': [{'id': '#atproto_pds', 'type': 'AtprotoPersonalDataServer', 'serviceEndpoint': server.url}]})) # the PLC directory's answer
        s.on('GET', '/xrpc/com.atproto.repo.getRecord', lambda r: reply({'uri': f'at://{did}/app.bsky.actor.profile/self', 'cid': self.profile_cid, 'value': self.profile}) if self.profile
                                                                   else reply({'error': 'RecordNotFound', 'message': 'Could not locate record'}, 400))
        s.on('POST', '/xrpc/com.atproto.repo.putRecord', self.put)
        s.on('POST', '/xrpc/com.atproto.repo.createRecord', self.create)
        s.on('GET', '/xrpc/com.atproto.repo.listRecords', lambda r: reply({'records': [{'uri': u, 'cid': c, 'value': v} for u, c, v in reversed(self.records)]}))
        s.on('GET', '/xrpc/app.bsky.notification.listNotifications', self.list_notifications)
    def list_notifications(self, r):
        "Newest first, `limit` a page, the cursor an offset; only the `reasons` asked for"
        ns = [n for n in reversed(self.notifications) if not r.query.get('reasons') or n['reason'] in r.query['reasons']]
        start, limit = int(r.param('cursor') or 0), int(r.param('limit') or 50)
        page = ns[start:start + limit]
        return reply({'notifications': page, 'seenAt': None, **({'cursor': str(start + limit)} if start + limit < len(ns) else {})})
    def put(self, r):
        b = json.loads(r.body)
        assert b['repo'] == self.did and b['collection'] == 'app.bsky.actor.profile' and b['rkey'] == 'self', b
        if b.get('swapRecord') != (self.profile_cid if self.profile else None): return reply({'error': 'InvalidSwap', 'message': 'Record was at ' + str(self.profile_cid)}, 400)
        self.profile, self.profile_cid = b['record'], cid(501)
        return reply({'uri': f'at://{self.did}/app.bsky.actor.profile/self', 'cid': self.profile_cid})
    def session(self, r):
        b = json.loads(r.body)
        if b.get('password') not in (PASSWORD, MAIN_PASSWORD): return reply({'error': 'AuthenticationRequired', 'message': 'Invalid identifier or password'}, 401)
        scope = 'com.atproto.appPass' if b['password'] == PASSWORD else 'com.atproto.access' # as the reference PDS scopes an app password's session and the main password's
        return reply({'accessJwt': jwt(self.did, scope), 'refreshJwt': jwt(self.did, 'com.atproto.refresh'), 'handle': self.handle, 'did': self.did, 'active': True})
    def create(self, r):
        if self.fail_create: return self.fail_create.pop(0)
        b = json.loads(r.body)
        assert b['repo'] == self.did and b['collection'] == 'app.bsky.feed.post', b
        uri, c = f'at://{self.did}/app.bsky.feed.post/3k{len(self.records):011d}', cid(len(self.records) + 1)
        self.records.append((uri, c, b['record']))
        return reply({'uri': uri, 'cid': c, 'commit': {'cid': cid(999), 'rev': '3k000'}, 'validationStatus': 'valid'})
    def mention(self, did, handle, text, reason='mention', root=None, labels=()):
        "Someone mentions the bot"
        k = len(self.notifications) + 1
        uri = f'at://{did}/app.bsky.feed.post/3m{k:011d}'
        rec = {'$type': 'app.bsky.feed.post', 'text': text, 'createdAt': f'2026-12-05T10:00:{k:02d}.000Z', 'langs': ['en']}
        if root: rec['reply'] = {'root': root, 'parent': root}
        self.notifications.append({'uri': uri, 'cid': cid(100 + k), 'author': {'did': did, 'handle': handle, 'labels': [{'src': did, 'uri': f'at://{did}/app.bsky.actor.profile/self', 'cid': cid(300), 'val': l, 'cts': '2026-01-01T00:00:00.000Z'} for l in labels]},
                                   'reason': reason, 'record': rec, 'isRead': False, 'indexedAt': f'2026-12-05T10:00:{k:02d}.000Z', 'labels': []})
        return {'uri': uri, 'cid': cid(100 + k)}
    def posts(self): return [json.loads(r.body) for r in self.server.got('/xrpc/com.atproto.repo.createRecord')]

def benv(server, password=PASSWORD): return {'BLUESKY_APP_PASSWORD': password, 'HUGGINGTWEETS_PLC_URL': server.url}

def bsky(folder, server, **kw):
    out = []
    sent = bot(folder, 'bluesky:bot.example.com', base_url=server.url, env=benv(server), sleep=lambda s: None, say=out.append, seed=kw.pop('seed', 0), **kw)
    return sent, out

def test_bluesky_posts_once_with_its_tag_and_facet(folder, server):
    pds = FakePDS(server)
    sent, said = bsky(folder, server)
    [rec] = [p['record'] for p in pds.posts()]
    assert rec['text'].endswith(' ' + DEFAULT_TAG) and len(rec['text']) > len(DEFAULT_TAG) + 1 and graphemes(rec['text']) <= 300, rec
    tag_at = len(rec['text'].encode()) - len('#huggingtweets'.encode())
    [facet] = rec['facets'] # the tag is a hashtag Bluesky links: its UTF-8 byte range
    fct.test_eq((facet['index']['byteStart'], facet['index']['byteEnd']), (tag_at, len(rec['text'].encode())))
    fct.test_eq([(f['$type'], f['tag']) for f in facet['features']], [('app.bsky.richtext.facet#tag', 'huggingtweets')])
    fct.test_eq([s.id for s in sent], [pds.records[0][0]])
    login = json.loads(server.got('/xrpc/com.atproto.server.createSession')[0].body)
    fct.test_eq(login['identifier'], 'bot.example.com')
    assert all(r.headers.get('Authorization', '').startswith('Bearer ') for r in server.got('/xrpc/com.atproto.repo.createRecord'))
    # the same seed again: the same draw is a post the bot already made, so it is drawn again
    bsky(folder, server)
    first, second = [p['record']['text'] for p in pds.posts()]
    assert first != second, first
    db = (folder/STATE).read_bytes() + b''.join(p.read_bytes() for p in folder.glob(STATE + '-*'))
    no_secret(db.decode('latin-1'), '\n'.join(said))
    with sqlite3.connect(folder/STATE) as c: fct.test_eq(c.execute("select state, remote_id from posts order by n").fetchall(), [('sent', pds.records[0][0]), ('sent', pds.records[1][0])])

def test_bluesky_long_posts_are_cut_at_a_word(folder, server):
    "A tag of 280 graphemes (and many more characters) leaves 19 for the post: it is cut at a word, the tag whole"
    pds = FakePDS(server)
    tag = '🤖🏽 ' + ' '.join(['written by a language model'] * 9) + ' (automated) #huggingtweets'
    fct.test_eq(graphemes(tag), 280)
    bsky(folder, server, tag=tag)
    [text] = [p['record']['text'] for p in pds.posts()]
    assert text.endswith('… ' + tag) and graphemes(text) <= 300 and graphemes(text) < len(text), (graphemes(text), text)
    body = text[:-len('… ' + tag)]
    assert body and not body.endswith(' '), text

def test_bluesky_refusals(folder, server):
    FakePDS(server, handle='alice.bsky.social', did=ALICE_DID)
    with pytest.raises(UserError, match='one of the accounts the model was trained on'):
        bot(folder, 'bluesky:@Alice.BSKY.social', base_url=server.url, env=benv(server), say=lambda s: None)
    assert not server.got('/xrpc/com.atproto.repo.createRecord')
    def fails(to='bluesky:alice.bsky.social', password=PASSWORD, base_url=server.url):
        with pytest.raises(UserError) as e: bot(folder, to, base_url=base_url, env=benv(server, password), say=lambda s: None)
        assert '\n' not in str(e.value) and not server.got('/xrpc/com.atproto.repo.createRecord'), e.value
        no_secret(str(e.value))
        return str(e.value)
    assert 'refused the app password of alice.bsky.social' in fails(password='wrong-pass-word-0000')
    fct.test_eq(fails(password=MAIN_PASSWORD), "BLUESKY_APP_PASSWORD holds the main password of alice.bsky.social, which can change the account itself: "
                                               "make an app password in Settings > Privacy and security > App passwords and set it instead.")
    assert fails('bluesky:nobody.example.com').startswith('No Bluesky account has the handle nobody.example.com (neither 127.0.0.1:')
    with FakeServer() as other: # another PDS: it resolves the handle as PDSes do, but the account is not its own
        other.on('GET', '/xrpc/com.atproto.identity.resolveHandle', reply({'did': ALICE_DID}))
        other.on('POST', '/xrpc/com.atproto.server.createSession', reply({'error': 'AuthenticationRequired', 'message': 'Invalid identifier or password'}, 401))
        msg = fails(base_url=other.url)
    assert msg.startswith(f'{other.url[7:]} did not log in alice.bsky.social (AuthenticationRequired') and f'its DID document says the account lives on {server.url}, so drop --base-url' in msg, msg

def test_bluesky_bot_label_and_mark_bot(folder, server):
    "The account must carry Bluesky's `bot` self-label: a description that says 'bot' is not it; --mark-bot adds it to the profile record, keeping the rest, by compare-and-swap"
    pds = FakePDS(server, labelled=False, profile={'$type': 'app.bsky.actor.profile', 'displayName': 'Alice bot', 'description': 'A bot. Automated, AI generated (huggingtweets).',
                                                   'avatar': {'$type': 'blob', 'ref': {'$link': cid(9)}, 'mimeType': 'image/jpeg', 'size': 1234},
                                                   'labels': {'$type': 'com.atproto.label.defs#selfLabels', 'values': [{'val': 'graphic-media'}]}})
    before = dict(pds.profile)
    with pytest.raises(UserError, match="does not carry the bot label .* run again with --mark-bot"): bsky(folder, server)
    assert not pds.records and not server.got('/xrpc/com.atproto.repo.putRecord')
    sent, said = bsky(folder, server, mark_bot=True)
    [put] = [json.loads(r.body) for r in server.got('/xrpc/com.atproto.repo.putRecord')]
    fct.test_eq(put['swapRecord'], cid(500))
    fct.test_eq({k: v for k, v in pds.profile.items() if k != 'labels'}, {k: v for k, v in before.items() if k != 'labels'})
    fct.test_eq((pds.profile['labels']['$type'], [l['val'] for l in pds.profile['labels']['values']]), ('com.atproto.label.defs#selfLabels', ['graphic-media', 'bot']))
    assert len(pds.records) == 1 and 'Labelled bot.example.com as a bot.' in said, said
    bsky(folder, server, mark_bot=True) # labelled now: nothing to change
    fct.test_eq(len(server.got('/xrpc/com.atproto.repo.putRecord')), 1)
    with FakeServer() as other: # a labelled account with no profile record at all, then one whose profile changed between the read and the write
        p2 = FakePDS(other, labelled=False)
        p2.profile = {}
        bsky(folder, other, mark_bot=True)
        assert 'swapRecord' not in json.loads(other.got('/xrpc/com.atproto.repo.putRecord')[0].body) # none to swap: atproto leaves the field out
        fct.test_eq([l['val'] for l in p2.profile['labels']['values']], ['bot'])

def test_bluesky_replies_threaded_once_none_to_bots_or_itself(folder, server):
    pds = FakePDS(server)
    thread = {'uri': f'at://{OTHER_DID}/app.bsky.feed.post/3kroot0000001', 'cid': cid(77)} # a post of the friend's, which started the thread
    a = pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com what do you think about coffee?', reason='reply', root=thread)
    b = pds.mention('did:plc:anotherbotanotherbotanoth', 'otherbot.bsky.social', '@bot.example.com beep', labels=['bot'])
    c = pds.mention(BOT_DID, 'bot.example.com', '@bot.example.com talking to myself')
    sent, said = bsky(folder, server, reply=True, post=False)
    replies = [p['record'] for p in pds.posts()]
    fct.test_eq(len(replies), 1)
    fct.test_eq((replies[0]['reply']['parent']['uri'], replies[0]['reply']['parent']['cid'], replies[0]['reply']['root']['uri']), (a['uri'], a['cid'], thread['uri']))
    assert replies[0]['text'].endswith(DEFAULT_TAG) and any('a bot' in s for s in said), said
    bsky(folder, server, reply=True, post=False) # nothing new: nothing answered twice
    fct.test_eq(len(pds.posts()), 1)
    d = pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com hello')
    bsky(folder, server, reply=True, post=False)
    fct.test_eq([p['record']['reply']['parent']['uri'] for p in pds.posts()], [a['uri'], d['uri']])
    fct.test_eq(pds.posts()[1]['record']['reply']['root']['uri'], d['uri']) # a mention outside a thread is its own root

def test_bluesky_rate_limit_then_success(folder, server):
    pds = FakePDS(server)
    pds.fail_create = [reply({'error': 'RateLimitExceeded', 'message': 'Rate Limit Exceeded'}, 429, {'Retry-After': '7', 'ratelimit-limit': '5000', 'ratelimit-remaining': '0'})]
    waits = []
    sent = bot(folder, 'bluesky:bot.example.com', base_url=server.url, env=benv(server), sleep=waits.append, say=lambda s: None, seed=0)
    fct.test_eq(len(server.got('/xrpc/com.atproto.repo.createRecord')), 2)
    fct.test_eq(len(pds.records), 1)
    fct.test_eq(len(waits), 1)
    assert 0 < waits[0] <= 9, waits

def test_kill_before_posting_posts_on_the_rerun(folder, server, monkeypatch):
    "Killed after recording the intent but before the post went out: the pending row is dropped and the next run posts"
    pds = FakePDS(server)
    pds.fail_create = [reply({'error': 'InternalServerError', 'message': 'down'}, 500)]
    with pytest.raises(UserError): bsky(folder, server)
    fct.test_eq(len(pds.records), 0)
    bsky(folder, server)
    fct.test_eq(len(pds.records), 1)
    with sqlite3.connect(folder/STATE) as c: fct.test_eq(c.execute('select state from posts').fetchall(), [('sent',)])

def test_dry_run_sends_nothing(folder, server, capsys, monkeypatch):
    monkeypatch.setenv('BLUESKY_APP_PASSWORD', PASSWORD); monkeypatch.setenv('HUGGINGTWEETS_PLC_URL', server.url)
    pds = FakePDS(server)
    pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com hi')
    rc = main(['bot', str(folder), '--to', 'bluesky:bot.example.com', '--reply', '--dry-run', '--base-url', server.url, '--seed', '0', '--prompt', 'Thinking about'])
    out, err = capsys.readouterr()
    assert rc == 0, err
    fct.test_eq([r for r in server.got() if r.method != 'GET' and r.path != '/xrpc/com.atproto.server.createSession'], [])
    assert 'Would post: Thinking about' in out and 'Would answer friend.bsky.social: Thinking about' in out and 'Would answer friend.bsky.social: ' in out and DEFAULT_TAG in out, out
    assert not (folder/STATE).exists()
    no_secret(out, err)

# ----------------------------------------------------------------------------- Mastodon

class FakeMastodon:
    "A Mastodon instance in the API's shapes: accounts, statuses, notifications, instance configuration"
    def __init__(self, server, bot_flag=True, max_chars=120):
        self.server, self.bot, self.statuses, self.notes = server, bot_flag, [], []
        s = server
        s.on('GET', '/api/v1/accounts/verify_credentials', self.me)
        s.on('PATCH', '/api/v1/accounts/update_credentials', self.update)
        s.on('GET', '/api/v2/instance/', reply({'domain': 'example.social', 'title': 'Example', 'version': '4.3.0', 'configuration': {'statuses': {'max_characters': max_chars, 'max_media_attachments': 4, 'characters_reserved_per_url': 23}}}))
        s.on('POST', '/api/v1/statuses', self.post)
        s.on('GET', '/api/v1/notifications', self.notifications)
        s.on('GET', '/api/v1/accounts/1/statuses', lambda r: reply(list(reversed(self.statuses))))
    def account(self, i, acct, bot=False):
        return {'id': str(i), 'username': acct.split('@')[0], 'acct': acct, 'display_name': acct, 'bot': bot, 'locked': False, 'note': '<p>A bot</p>',
                'url': f'https://example.social/@{acct}', 'created_at': '2026-01-01T00:00:00.000Z', 'followers_count': 0, 'following_count': 0, 'statuses_count': len(self.statuses)}
    def me(self, r):
        if r.headers.get('Authorization') != f'Bearer {TOKEN}': return reply({'error': 'The access token is invalid'}, 401)
        return reply(self.account(1, 'alicebot', self.bot))
    def update(self, r):
        self.bot = parse_qs(r.body.decode()).get('bot') in (['1'], ['True'], ['true']) or (r.body.startswith(b'{') and json.loads(r.body).get('bot') in (True, '1', 1))
        return reply(self.account(1, 'alicebot', self.bot))
    def form(self, r):
        return json.loads(r.body) if r.body.startswith(b'{') else {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
    def post(self, r):
        f = self.form(r)
        html = re.sub(r'@(\w+)@[\w.]+', r'<span class="h-card"><a href="https://other.social/@\1" class="u-url mention">@<span>\1</span></a></span>', # as Mastodon shows a mention
                      f['status'].replace('&', '&amp;').replace('<', '&lt;'))
        st = {'id': str(109000 + len(self.statuses)), 'content': f'<p>{html}</p>', 'in_reply_to_id': f.get('in_reply_to_id'),
              'created_at': '2026-12-05T10:00:00.000Z', 'visibility': 'public', 'account': self.account(1, 'alicebot', self.bot), 'reblog': None}
        self.statuses.append(st)
        return reply(st)
    def mention(self, acct, text, bot=False, i=None, visibility='public', in_reply_to=None):
        k = len(self.notes) + 1
        st = {'id': str(108000 + k), 'content': f'<p><span class="h-card"><a href="https://example.social/@alicebot" class="u-url mention">@<span>alicebot</span></a></span> {text}</p>',
              'created_at': '2026-12-05T09:00:00.000Z', 'visibility': visibility, 'account': self.account(i or 10 + k, acct, bot), 'reblog': None, 'in_reply_to_id': in_reply_to}
        self.notes.append({'id': str(500 + k), 'type': 'mention', 'created_at': '2026-12-05T09:00:00.000Z', 'account': st['account'], 'status': st})
        return st['id']
    def notifications(self, r):
        "As Mastodon pages them: `min_id` gives the `limit` oldest after it, newest first"
        since, limit = r.param('min_id'), int(r.param('limit') or 40)
        assert r.query.get('types[]') == ['mention'] and r.param('since_id') is None, r.query
        return reply(list(reversed([n for n in self.notes if not since or int(n['id']) > int(since)][:limit])))

def masto(folder, server, **kw):
    out = []
    sent = bot(folder, 'mastodon:@alicebot@example.social', base_url=server.url, env={'MASTODON_ACCESS_TOKEN': TOKEN}, sleep=kw.pop('sleep', lambda s: None),
               say=out.append, seed=kw.pop('seed', 0), **kw)
    return sent, out

def test_mastodon_posts_within_the_instance_limit(folder, server):
    m = FakeMastodon(server, max_chars=36)
    masto(folder, server)
    [st] = server.got('/api/v1/statuses')
    text = m.form(st)['status']
    assert text.endswith('… ' + DEFAULT_TAG) and graphemes(text) <= 36, text
    fct.test_eq(server.got('/api/v1/accounts/verify_credentials')[0].headers['Authorization'], f'Bearer {TOKEN}')

def test_mastodon_bot_flag(folder, server):
    FakeMastodon(server, bot_flag=False)
    with pytest.raises(UserError, match=r"is not marked as a bot on example.social: tick 'This is an automated account'.*--mark-bot"): masto(folder, server)
    assert not server.got('/api/v1/statuses')
    sent, said = masto(folder, server, mark_bot=True)
    fct.test_eq(len(server.got('/api/v1/accounts/update_credentials')), 1)
    fct.test_eq(len(server.got('/api/v1/statuses')), 1)
    masto(folder, server) # flagged now
    fct.test_eq(len(server.got('/api/v1/accounts/update_credentials')), 1)

def test_mastodon_same_person_however_spelled(folder, server):
    s = FakeMastodon(server)
    server.on('GET', '/api/v1/accounts/verify_credentials', reply(s.account(1, 'Alice', True)))
    with pytest.raises(UserError, match='one of the accounts the model was trained on'):
        bot(folder, 'mastodon:@ALICE@Example.Social', base_url=server.url, env={'MASTODON_ACCESS_TOKEN': TOKEN}, say=lambda s: None)
    assert not server.got('/api/v1/statuses')

def test_mastodon_wrong_token_is_one_sentence(folder, server, capsys, monkeypatch):
    FakeMastodon(server)
    monkeypatch.setenv('MASTODON_ACCESS_TOKEN', TOKEN[::-1])
    rc = main(['bot', str(folder), '--to', 'mastodon:@alicebot@example.social', '--base-url', server.url])
    out, err = capsys.readouterr()
    assert rc == 1 and err.startswith('Error: example.social refused the access token') and err.count('\n') == 1, err
    no_secret(out, err); assert TOKEN[::-1] not in out + err

def test_mastodon_replies_threaded_once_none_to_bots_and_429(folder, server):
    m = FakeMastodon(server)
    a = m.mention('friend@other.social', 'tell me about running')
    m.mention('beepbot@bots.social', 'beep boop', bot=True)
    m.mention('alicebot', 'a note to myself', i=1)
    c = m.mention('pal@other.social', 'and music?', visibility='direct')
    n = 0
    def statuses(r):
        nonlocal n
        n += 1
        if n == 1: return reply({'error': 'Too many requests'}, 429, {'X-RateLimit-Limit': '300', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': time.strftime('%Y-%m-%dT%H:%M:%S.000Z', time.gmtime(time.time() + 30))})
        return m.post(r)
    server.on('POST', '/api/v1/statuses', statuses)
    waits = []
    sent, said = masto(folder, server, reply=True, post=False, max_replies=1, sleep=waits.append)
    assert len(waits) == 1 and 20 < waits[0] <= 32, waits # until X-RateLimit-Reset
    posted = [m.form(r) for r in server.got('/api/v1/statuses')][1:]
    fct.test_eq([(p['in_reply_to_id'], p['status'].split()[0]) for p in posted], [(a, '@friend@other.social')])
    sent, said = masto(folder, server, reply=True, post=False, max_replies=5)
    posted = [m.form(r) for r in server.got('/api/v1/statuses')][1:]
    fct.test_eq([(p['in_reply_to_id'], p['visibility']) for p in posted], [(a, 'public'), (c, 'direct')]) # c waited for this round, and a direct message is answered directly; a is not answered twice; no bot, not itself
    assert all(graphemes(p['status']) <= 120 and p['status'].endswith(DEFAULT_TAG) for p in posted), posted
    fct.test_eq(server.got('/api/v1/notifications')[-1].param('min_id'), '503') # the first round stopped before c, the one it left
    masto(folder, server, reply=True, post=False)
    fct.test_eq(server.got('/api/v1/notifications')[-1].param('min_id'), '504')
    fct.test_eq(len(server.got('/api/v1/statuses')), 3)

# ----------------------------------------------------------------------------- the loop, the CLI

def test_every_stops_cleanly_on_sigterm(folder, server, capsys, monkeypatch):
    monkeypatch.setenv('BLUESKY_APP_PASSWORD', PASSWORD); monkeypatch.setenv('HUGGINGTWEETS_PLC_URL', server.url)
    "Rounds every 0.3 s; a SIGTERM sent while it waits after its second post ends the wait at once, with nothing half-done"
    pds = FakePDS(server)
    create, stopped = pds.create, []
    def create_then_term(r):
        out = create(r)
        if len(pds.records) == 2: stopped.append(threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGTERM))); stopped[0].start()
        return out
    server.on('POST', '/xrpc/com.atproto.repo.createRecord', create_then_term)
    rc = main(['bot', str(folder), '--to', 'bluesky:bot.example.com', '--every', '0.3s', '--base-url', server.url, '--seed', '0'])
    out, err = capsys.readouterr()
    assert rc == 0 and 'Stopped after 2 rounds.' in out, (out, err)
    fct.test_eq(len(pds.records), 2)
    assert len(pds.records) >= 2 and len({r[2]['text'] for r in pds.records}) == len(pds.records), pds.records
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

def test_update_every_runs_update_when_old(folder, server, monkeypatch):
    from huggingtweets import pipeline
    FakePDS(server)
    calls = []
    monkeypatch.setattr(pipeline, 'update_model', lambda f, **kw: calls.append(Path(f)))
    bsky(folder, server, update_every=86400)
    fct.test_eq(calls, [])
    old = time.time() - 2 * 86400
    os.utime(folder/'huggingtweets.json', (old, old))
    bsky(folder, server, update_every=86400)
    fct.test_eq(calls, [folder])
    monkeypatch.undo()
    sent, said = bsky(folder, server, update_every=86400) # the real update: this model was not trained here, which it says, and it posts anyway
    assert any(s.startswith('Could not update the model (') and 'was not trained on this machine' in s for s in said) and len(sent) == 1, said

def test_cli_errors(folder, capsys, monkeypatch):
    monkeypatch.delenv('BLUESKY_APP_PASSWORD', raising=False)
    for args, msg in [(['--to', 'bluesky:bot.example.com'], 'needs BLUESKY_APP_PASSWORD set'), (['--to', 'myspace:tom'], 'is not a bot account'),
                      (['--to', 'bluesky:bot.example.com', '--tag', ' '], "must show visible letters"), (['--to', 'bluesky:bot.example.com', '--every', 'soon'], 'not a duration')]:
        rc = main(['bot', str(folder), *args])
        out, err = capsys.readouterr()
        assert rc == 1 and msg in err and err.count('\n') == 1, (args, err)

def test_mastodon_kill_after_a_reply_then_rerun(folder, server, monkeypatch):
    "The reply reached the instance (which shows `@friend@other.social` as `@friend`), then the process died: the rerun does not answer again"
    m = FakeMastodon(server)
    a = m.mention('friend@other.social', 'tell me about running')
    real = BotState.sent
    monkeypatch.setattr(BotState, 'sent', lambda self, n, i: (_ for _ in ()).throw(KeyboardInterrupt('killed')))
    with pytest.raises(KeyboardInterrupt): masto(folder, server, reply=True, post=False)
    monkeypatch.setattr(BotState, 'sent', real)
    sent, said = masto(folder, server, reply=True, post=False)
    fct.test_eq([m.form(r)['in_reply_to_id'] for r in server.got('/api/v1/statuses')], [a])
    fct.test_eq(sent, [])
    with sqlite3.connect(folder/STATE) as c: fct.test_eq(c.execute('select kind, state, remote_id, reply_to from posts').fetchall(), [('reply', 'sent', '109000', a)])

def test_x_posts_with_the_four_keys(folder, server):
    "X, the optional third: OAuth 1.0a user context, through a local stand-in of the v2 API"
    server.on('GET', '/2/users/me', reply({'data': {'id': '77', 'name': 'Alice bot', 'username': 'alicebot_x'}}))
    server.on('POST', '/2/tweets', lambda r: reply({'data': {'id': '1800000000000000001', 'text': json.loads(r.body)['text'], 'edit_history_tweet_ids': ['1800000000000000001']}}, 201))
    keys = dict(X_CONSUMER_KEY='ck-123456', X_CONSUMER_SECRET='cs-' + PASSWORD, X_ACCESS_TOKEN='77-' + TOKEN, X_ACCESS_TOKEN_SECRET='ats-123456789')
    said = []
    [s] = bot(folder, 'x:alicebot_x', base_url=server.url, env=keys, say=said.append, seed=0)
    [r] = server.got('/2/tweets')
    text = json.loads(r.body)['text']
    assert text.endswith(DEFAULT_TAG) and graphemes(text) <= 280 and s.id == '1800000000000000001', text
    assert r.headers['Authorization'].startswith('OAuth ') and 'oauth_consumer_key="ck-123456"' in r.headers['Authorization']
    no_secret('\n'.join(said))
    with pytest.raises(UserError, match='needs X_ACCESS_TOKEN_SECRET set'): bot(folder, 'x:alicebot_x', base_url=server.url, env=keys | {'X_ACCESS_TOKEN_SECRET': ''}, say=said.append)

def test_sigkill_between_posting_and_saving_then_rerun(folder, server):
    "A real kill: the PDS records the post, then SIGKILLs the command before it answers, so the id is never saved; the rerun posts once, not the same text again"
    import subprocess, sys
    pds, proc = FakePDS(server), []
    create = pds.create
    def create_then_kill(r):
        out = create(r)
        proc[0].kill() # SIGKILL: no handler, no cleanup
        proc[0].wait()
        return out
    server.on('POST', '/xrpc/com.atproto.repo.createRecord', create_then_kill)
    env = {k: v for k, v in os.environ.items() if not k.startswith('WANDB_')} | dict(PYTHONPATH=str(Path(__file__).resolve().parents[1]), BLUESKY_APP_PASSWORD=PASSWORD, HUGGINGTWEETS_PLC_URL=server.url, HF_HUB_OFFLINE='1')
    proc.append(subprocess.Popen([sys.executable, '-m', 'huggingtweets', 'bot', str(folder), '--to', 'bluesky:bot.example.com', '--base-url', server.url, '--seed', '0'],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    out, err = proc[0].communicate(timeout=120)
    assert proc[0].returncode == -signal.SIGKILL, (proc[0].returncode, err[-2000:])
    fct.test_eq(len(pds.records), 1)
    with sqlite3.connect(folder/STATE) as c: fct.test_eq(c.execute('select state, remote_id from posts').fetchall(), [('pending', None)])
    server.on('POST', '/xrpc/com.atproto.repo.createRecord', create)
    sent, said = bsky(folder, server)
    fct.test_eq(len(pds.records), 2)
    assert pds.records[0][2]['text'] != pds.records[1][2]['text']
    with sqlite3.connect(folder/STATE) as c: fct.test_eq(c.execute('select state, remote_id from posts order by n').fetchall(), [('sent', pds.records[0][0]), ('sent', pds.records[1][0])])

# ----------------------------------------------------------------------------- issue 26: what the real servers and a hostile probe showed

def test_bluesky_mentions_paged_back_past_other_notifications_and_decided_by_what_was_answered(folder, server):
    "A mention behind 51 follows and a page of bots' mentions is still answered; one dated before the last answer (the AppView dates by the earlier of posting and indexing) is answered too"
    pds = FakePDS(server)
    a = pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com coffee or tea?')
    for i in range(55): pds.mention(f'did:plc:beepbeepbeepbeepbeep{i:04d}', f'beep{i}.bsky.social', '@bot.example.com beep', labels=['bot'])
    for i in range(51): pds.mention(f'did:plc:followerfollowerfollo{i:04d}', f'fan{i}.bsky.social', '', reason='follow')
    sent, said = bsky(folder, server, reply=True, post=False)
    fct.test_eq([p['record']['reply']['parent']['uri'] for p in pds.posts()], [a['uri']])
    asks = server.got('/xrpc/app.bsky.notification.listNotifications')
    assert all(r.query.get('reasons') == ['mention', 'reply'] for r in asks) and len(asks) == 2 and asks[1].param('cursor'), [r.query for r in asks]
    late = pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com and now?')
    pds.notifications[-1]['indexedAt'] = '2026-12-05T09:00:00.000Z' # before every other notification
    bsky(folder, server, reply=True, post=False)
    fct.test_eq([p['record']['reply']['parent']['uri'] for p in pds.posts()], [a['uri'], late['uri']])
    fct.test_eq(len(server.got('/xrpc/app.bsky.notification.listNotifications')), 3) # the second round stopped at the first page: it holds an answered one

def test_bluesky_post_languages_from_the_record(folder, server):
    rec = ModelRecord.load(folder)
    rec.languages = [['fr', 0.7], ['en', 0.25], ['und', 0.05]]
    rec.save(folder)
    pds = FakePDS(server)
    bsky(folder, server)
    fct.test_eq(pds.posts()[0]['record']['langs'], ['fr', 'en'])

def test_bluesky_thread_cap_rootless_mention_and_one_failure_never_stops_the_others(folder, server):
    pds = FakePDS(server)
    thread = {'uri': f'at://{OTHER_DID}/app.bsky.feed.post/3kroot0000001', 'cid': cid(77)}
    ms = [pds.mention(OTHER_DID, 'friend.bsky.social', f'@bot.example.com round {i}', reason='reply', root=thread) for i in range(3)]
    rootless = pds.mention(ALICE_DID, 'pal.bsky.social', '@bot.example.com hi', reason='reply', root={'uri': f'at://{ALICE_DID}/app.bsky.feed.post/3kgone0000001'}) # a root without its cid
    pds.fail_create = [reply({'error': 'InternalServerError', 'message': 'down'}, 500)] # the first answer fails
    sent, said = bsky(folder, server, reply=True, post=False, thread_replies=3)
    answered = [p['record']['reply']['parent']['uri'] for p in pds.posts()[1:]]
    fct.test_eq(answered, [ms[1]['uri'], ms[2]['uri'], rootless['uri']]) # the failed one is left for the next round; the others went on
    assert any(s.startswith('Could not answer friend.bsky.social this round (') for s in said), said
    fct.test_eq({k: pds.posts()[-1]['record']['reply']['root'][k] for k in ('uri', 'cid')}, rootless) # its root can't be found: it is its own
    sent, said = bsky(folder, server, reply=True, post=False, thread_replies=3)
    fct.test_eq([s.to for s in sent], [ms[0]['uri']]) # the failed one, the next round: the thread's third answer
    more = pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com again!', reason='reply', root=thread)
    sent, said = bsky(folder, server, reply=True, post=False, thread_replies=3)
    fct.test_eq(sent, []) # the thread has had its three answers
    assert 'Not answering friend.bsky.social: the bot answered 3 times in that thread already.' in said, said

def test_dry_run_without_credentials_or_server_and_only_replies(folder, server, capsys, monkeypatch):
    monkeypatch.delenv('BLUESKY_APP_PASSWORD', raising=False)
    rc = main(['bot', str(folder), '--to', 'bluesky:nobody.invalid', '--dry-run', '--reply', '--seed', '0'])
    out, err = capsys.readouterr()
    assert rc == 0 and 'Dry run without BLUESKY_APP_PASSWORD: the account, its bot label' in out and 'Would post: ' in out and 'Mentions are not read' in out, (out, err)
    assert not (folder/STATE).exists()
    monkeypatch.setenv('BLUESKY_APP_PASSWORD', PASSWORD); monkeypatch.setenv('HUGGINGTWEETS_PLC_URL', server.url)
    pds = FakePDS(server)
    a = pds.mention(OTHER_DID, 'friend.bsky.social', '@bot.example.com hi')
    rc = main(['bot', str(folder), '--to', 'bluesky:bot.example.com', '--only-replies', '--base-url', server.url, '--seed', '0'])
    out, err = capsys.readouterr()
    assert rc == 0, err
    fct.test_eq([p['record'].get('reply', {}).get('parent', {}).get('uri') for p in pds.posts()], [a['uri']]) # the answer, and no new post

def test_a_server_that_sends_a_byte_a_second_meets_the_deadline(folder):
    "Each read gets a byte before the read timeout: only a total deadline ends the request"
    import socket
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(4)
    stop = threading.Event()
    def drip():
        while not stop.is_set():
            try: conn, _ = srv.accept()
            except OSError: return
            def one(c):
                c.recv(65536)
                for b in b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n' + b' ' * 100:
                    if stop.wait(0.5): break
                    try: c.sendall(bytes([b]))
                    except OSError: break
                c.close()
            threading.Thread(target=one, args=(conn,), daemon=True).start()
    threading.Thread(target=drip, daemon=True).start()
    url = f'http://127.0.0.1:{srv.getsockname()[1]}'
    try:
        for to, env in [('bluesky:bot.example.com', {'BLUESKY_APP_PASSWORD': PASSWORD}), ('mastodon:@bot@example.social', {'MASTODON_ACCESS_TOKEN': TOKEN})]:
            with pytest.raises(UserError, match=r'had not finished answering after 2 seconds while'):
                bot(folder, to, base_url=url, env=env, say=lambda s: None, deadline=2)
    finally: stop.set(); srv.close()

def test_state_file_hostile(folder, server, capsys, monkeypatch):
    monkeypatch.setenv('BLUESKY_APP_PASSWORD', PASSWORD); monkeypatch.setenv('HUGGINGTWEETS_PLC_URL', server.url)
    pds = FakePDS(server)
    def run():
        rc = main(['bot', str(folder), '--to', 'bluesky:bot.example.com', '--base-url', server.url, '--seed', '0'])
        out, err = capsys.readouterr()
        return rc, err
    (folder/STATE).symlink_to(folder/'elsewhere.sqlite') # dangling: never written through
    rc, err = run()
    assert rc == 1 and 'is a symbolic link' in err and err.count('\n') == 1 and not (folder/'elsewhere.sqlite').exists(), err
    (folder/STATE).unlink()
    (folder/STATE).write_bytes(b'{"posts": []}' * 300) # corrupt
    rc, err = run()
    assert rc == 1 and 'is damaged or is not a bot' in err and err.count('\n') == 1, err
    (folder/STATE).unlink()
    held = BotState(folder/STATE, 'bluesky', 'bot.example.com') # another bot on the same state
    rc, err = run()
    assert rc == 1 and err.startswith('Error: Another bot is running on') and err.count('\n') == 1, err
    held.close()
    other = sqlite3.connect(folder/STATE, isolation_level=None) # another program writing to it
    other.execute('begin exclusive')
    rc, err = run()
    assert rc == 1 and 'is locked by another program: stop it' in err and err.count('\n') == 1, err
    other.execute('rollback'); other.close()
    fct.test_eq(len(pds.records), 0) # nothing posted by a run that could not record it
    rc, err = run()
    assert rc == 0 and len(pds.records) == 1, err

def test_mastodon_long_name_odd_limits(folder, server):
    "A mention from a 600-character name is left (it would leave no room), and the others are answered, round after round; a limit of -5 or true is not a length"
    m = FakeMastodon(server)
    m.mention('x' * 600 + '@far.social', 'hello')
    b = m.mention('friend@other.social', 'tell me about running')
    sent, said = masto(folder, server, reply=True, post=False)
    fct.test_eq([m.form(r)['in_reply_to_id'] for r in server.got('/api/v1/statuses')], [b])
    assert any(s.startswith('Not answering ' + 'x' * 600) and s.endswith('its name leaves no room for an answer.') for s in said), said
    c = m.mention('pal@other.social', 'and music?')
    masto(folder, server, reply=True, post=False)
    fct.test_eq([m.form(r)['in_reply_to_id'] for r in server.got('/api/v1/statuses')], [b, c])
    for bad in (-5, True, 0): # (Mastodon.py reads '500' as 500)
        server.on('GET', '/api/v2/instance/', reply({'domain': 'example.social', 'configuration': {'statuses': {'max_characters': bad}}}))
        sent, said = masto(folder, server)
        assert len(sent) == 1 and any('which is not a length' in s for s in said) and graphemes(sent[0].text) <= 500, said

def test_x_odd_answers_and_absurd_every(folder, server):
    server.on('GET', '/2/users/me', reply({'data': {'id': '77', 'name': 'Alice bot', 'username': 'alicebot_x'}}))
    server.on('POST', '/2/tweets', reply({}, 200)) # 200 with no tweet
    keys = dict(X_CONSUMER_KEY='ck-123456', X_CONSUMER_SECRET='cs-123456', X_ACCESS_TOKEN='77-123456', X_ACCESS_TOKEN_SECRET='ats-123456789')
    with pytest.raises(UserError, match=r"The request to X \(127.0.0.1:\d+\) failed while posting \(the answer was not JSON\)"):
        bot(folder, 'x:alicebot_x', base_url=server.url, env=keys, say=lambda s: None, seed=0)
    server.on('GET', '/2/users/77/tweets', reply({'data': [], 'meta': {'result_count': 0}})) # the next round finds the row the {} left pending not posted
    server.on('POST', '/2/tweets', reply({'title': 'Too Many Requests'}, 429, {'x-rate-limit-reset': 'soon'}))
    waits = []
    with pytest.raises(UserError, match='still rate-limiting requests after 3 waits'):
        bot(folder, 'x:alicebot_x', base_url=server.url, env=keys, say=lambda s: None, seed=0, sleep=waits.append)
    fct.test_eq(waits, [5.0] * 3) # a reset that is not a time: the usual short wait
    with sqlite3.connect(folder/STATE) as c: fct.test_eq(c.execute('select state from posts').fetchall(), [('pending',)]) # only the last, rate-limited one: the {} one was settled
    for every in (1e12, float('inf')):
        with pytest.raises(UserError, match='longer than a year'): run_bot(folder, 'x:alicebot_x', every, say=lambda s: None)

def test_rate_limit_resetting_another_day_says_the_date():
    from huggingtweets.social import rate_limit_wait
    import datetime as dt
    now = dt.datetime(2026, 12, 5, 12, 0).timestamp()
    with pytest.raises(UserError) as e: rate_limit_wait(now + 3 * 86400, 'X', 60, now)
    assert 'about 3 more days: try again after 2026-12-08 ' in str(e.value), e.value
    with pytest.raises(UserError) as e: rate_limit_wait(now + 600, 'X', 60, now)
    assert 'about 11 more minutes: try again after 12:' in str(e.value), e.value
    with pytest.raises(UserError, match='too far off to name'): rate_limit_wait(1e30, 'X', 60, now)

def test_mastodon_thread_cap_and_language(folder, server):
    "An unflagged account that answers every answer of the bot's gets `thread_replies` of them; statuses say the model's language"
    rec = ModelRecord.load(folder); rec.languages = [['de', 0.9], ['en', 0.1]]; rec.save(folder)
    m = FakeMastodon(server)
    last = m.mention('chatty@other.social', 'hello bot')
    for i in range(4):
        masto(folder, server, reply=True, post=False, thread_replies=2)
        mine = m.statuses[-1]['id'] # the bot's latest answer: chatty answers it
        last = m.mention('chatty@other.social', f'and {i}?', in_reply_to=mine)
    posted = [m.form(r) for r in server.got('/api/v1/statuses')]
    fct.test_eq(len(posted), 2)
    fct.test_eq({p.get('language') for p in posted}, {'de'})

def test_bluesky_token_refused_mid_round_is_one_sentence(folder, server):
    "A session refused after the login (an expired or revoked app password) while posting: one sentence, and the row is left for the next round to settle"
    pds = FakePDS(server)
    pds.fail_create = [reply({'error': 'ExpiredToken', 'message': 'Token has expired'}, 400)]
    with pytest.raises(UserError) as e: bsky(folder, server)
    fct.test_eq(str(e.value), 'Bluesky refused the app password of bot.example.com (ExpiredToken: Token has expired): make a new one in Settings > Privacy and security > App passwords and set BLUESKY_APP_PASSWORD to it.')
    bsky(folder, server)
    fct.test_eq(len(pds.records), 1)

def test_bluesky_with_its_server_given_needs_no_plc(folder, server):
    "With --base-url (a self-hosted PDS) an unreachable PLC directory only leaves the server unchecked; without it, the DID document is where the server comes from"
    pds = FakePDS(server)
    bot(folder, 'bluesky:bot.example.com', base_url=server.url, env={'BLUESKY_APP_PASSWORD': PASSWORD, 'HUGGINGTWEETS_PLC_URL': 'http://127.0.0.1:9'}, say=lambda s: None, seed=0)
    fct.test_eq(len(pds.records), 1)
    p = hbot.platform(f'bluesky:{BOT_DID}', env={'HUGGINGTWEETS_PLC_URL': 'http://127.0.0.1:9'})
    with pytest.raises(UserError, match=rf'The DID document of {BOT_DID} \({BOT_DID}\) could not be read from 127.0.0.1:9 \(DidPlcResolverError\): check the handle'): p.resolve()
    fct.test_eq(hbot.platform(f'bluesky:{BOT_DID}', env={'HUGGINGTWEETS_PLC_URL': server.url}).resolve(), (BOT_DID, server.url))

def test_dry_run_never_prints_a_post_raw(folder, server, capsys, monkeypatch):
    "A post holding terminal escapes is shown as plain text"
    monkeypatch.setenv('BLUESKY_APP_PASSWORD', PASSWORD)
    FakePDS(server)
    monkeypatch.setattr(hbot, 'new_post', lambda *a, **kw: 'Thinking about \x1b]0;pwned\x07\u202eevil \x1b[2J')  # as a model that learnt escapes would write
    rc = main(['bot', str(folder), '--to', 'bluesky:bot.example.com', '--dry-run', '--base-url', server.url, '--seed', '0', '--prompt', 'Thinking about'])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert 'Would post: Thinking about evil' in out and not any(c in out for c in '\x1b\x07\u202e'), repr(out)

def test_a_prompt_with_terminal_escapes_is_refused_before_anything_is_posted(folder, server):
    "--prompt holding an ANSI escape would be posted as it is (the dry run's preview hides it): one sentence, nothing sent, no state"
    pds = FakePDS(server)
    with pytest.raises(UserError, match='^The prompt has control characters'): bsky(folder, server, prompt='\x1b[2J\x1b[31mhello')
    fct.test_eq(pds.posts(), []); assert not (folder/STATE).exists()

@pytest.mark.parametrize('url', ['http://[::1', 'ftp://bot:hunter2pw@host/', 'http://host:99999', 'no-scheme.example'])
def test_a_server_address_that_is_not_a_url_is_one_sentence_without_it(folder, url):
    "--base-url of a broken shape: one sentence that never repeats the address (it may hold a password), before any request"
    with pytest.raises(UserError, match=r"^The Bluesky server's address .* is not an http\(s\) URL") as e:
        bot(folder, 'bluesky:bot.example.com', base_url=url, env={'BLUESKY_APP_PASSWORD': PASSWORD}, say=print)
    assert 'hunter2pw' not in str(e.value)

def test_a_server_that_never_answers_is_named_without_the_password_in_its_url():
    "A request past its deadline names the server by its host alone, not the user and password its URL holds"
    from huggingtweets.bluesky import Bluesky
    p = Bluesky('bot.example.com', base_url='http://bot:hunter2pw@127.0.0.1:9', env={}, deadline=0.1)
    with pytest.raises(UserError, match=r'^Bluesky \(127\.0\.0\.1:9\) had not finished answering') as e: p.call('waiting', time.sleep, 1)
    assert 'hunter2pw' not in str(e.value)
