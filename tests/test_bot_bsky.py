"`huggingtweets bot` against the reference Bluesky stack (PLC, PDS and AppView of tools/bsky, through the `bsky` fixture of bsky_stack.py): the defects of issue 26, on the real servers."
import datetime as dt, json, shutil
from pathlib import Path
import pytest
import fastcore.test as fct
from huggingtweets.bluesky import BOT_LABEL
from huggingtweets.bot import DEFAULT_TAG, STATE, bot
from huggingtweets.social import graphemes
from huggingtweets.core import UserError
from huggingtweets.record import ModelRecord
from test_bot import model # the tiny model folder, trained on @Alice (its record), shared by this module's tests

@pytest.fixture
def folder(model, tmp_path): return Path(shutil.copytree(model, tmp_path/'model'))

def now(days:float=0)->str: return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).isoformat(timespec='milliseconds').replace('+00:00', 'Z')

def run(folder, s, acc, password=None, **kw):
    "One round of the bot as `acc`, on the stack's PDS; what it sent and said"
    said = []
    sent = bot(folder, f'bluesky:{acc.handle}', base_url=kw.pop('base_url', s.pds), env={'BLUESKY_APP_PASSWORD': password or acc.app_password, 'HUGGINGTWEETS_PLC_URL': s.plc},
               say=said.append, seed=kw.pop('seed', 0), **kw)
    return sent, said

def create(s, acc, collection, record, **kw):
    r = s.client(acc).com.atproto.repo.create_record(data={'repo': acc.did, 'collection': collection, 'record': record, **kw})
    return {'uri': r.uri, 'cid': r.cid}

def mention(s, who, to, text, reply=None, created=None, **kw):
    "A post of `who` that mentions `to` (a mention facet: what makes the notification), in reply to `reply` when given"
    rec = {'$type': 'app.bsky.feed.post', 'text': f'@{to.handle} {text}', 'createdAt': created or now(),
           'facets': [{'index': {'byteStart': 0, 'byteEnd': len(to.handle) + 1}, 'features': [{'$type': 'app.bsky.richtext.facet#mention', 'did': to.did}]}]}
    if reply: rec['reply'] = reply
    return create(s, who, 'app.bsky.feed.post', rec, **kw)

def set_profile(s, acc, **fields):
    s.client(acc).com.atproto.repo.put_record(data={'repo': acc.did, 'collection': 'app.bsky.actor.profile', 'rkey': 'self', 'record': {'$type': 'app.bsky.actor.profile', **fields}})

def profile_record(s, acc)->dict:
    import httpx
    return httpx.get(f'{s.pds}/xrpc/com.atproto.repo.getRecord', params={'repo': acc.did, 'collection': 'app.bsky.actor.profile', 'rkey': 'self'}).json()['value']

def post_record(s, uri)->dict:
    import httpx
    did, _, rkey = uri[len('at://'):].partition('/app.bsky.feed.post/')
    return httpx.get(f'{s.pds}/xrpc/com.atproto.repo.getRecord', params={'repo': did, 'collection': 'app.bsky.feed.post', 'rkey': rkey}).json()['value']

def test_real_label_mark_bot_bytes_facets_langs(bsky, folder):
    "1, 4, 5, 6: a profile that says 'not a bot' is no label; --mark-bot adds the self-label and keeps the rest; a post of 2,500-byte tag fits 3,000 bytes; Bluesky's tags and links; the record's languages"
    s, acc = bsky, bsky.account('labelme')
    set_profile(s, acc, displayName='Alice bot', description='Not a bot. A real person, no AI here.')
    with pytest.raises(UserError, match='does not carry the bot label'): run(folder, s, acc)
    rec = ModelRecord.load(folder); rec.languages = [['fr', 0.8], ['en', 0.2]]; rec.save(folder)
    sent, said = run(folder, s, acc, mark_bot=True)
    prof = profile_record(s, acc)
    fct.test_eq((prof['displayName'], prof['description'], [l['val'] for l in prof['labels']['values']]), ('Alice bot', 'Not a bot. A real person, no AI here.', ['bot']))
    s.wait(lambda: [l for l in s.client(acc).app.bsky.actor.get_profile({'actor': acc.did}).labels if l.val == 'bot'] or 1 / 0, 'the AppView to show the bot label')
    [p] = sent
    r = post_record(s, p.id)
    fct.test_eq((r['text'].endswith(DEFAULT_TAG), r['langs']), (True, ['fr', 'en']))
    fct.test_eq([(f['features'][0]['$type'], f['features'][0].get('tag')) for f in r['facets']], [('app.bsky.richtext.facet#tag', 'huggingtweets')])
    tag = '👨‍👩‍👧‍👦' * 100 + ' #croissant-au-beurre ＃日本語 #2024 see example.com/x.' # 2,500 bytes of emoji families, Bluesky's kinds of tags, a bare link
    [p] = run(folder, s, acc, tag=tag)[0]
    r = post_record(s, p.id)
    assert len(r['text'].encode()) <= 3000 and graphemes(r['text']) <= 300 and r['text'].endswith(tag), len(r['text'].encode())
    fct.test_eq([f['features'][0].get('tag') or f['features'][0]['uri'] for f in r['facets']], ['https://example.com/x', 'croissant-au-beurre', '日本語'])
    for f in r['facets']: # the byte ranges cover what they name
        piece = r['text'].encode()[f['index']['byteStart']:f['index']['byteEnd']].decode()
        assert piece.lstrip('#＃') == f['features'][0].get('tag', piece.lstrip('#＃')) or 'https://' + piece == f['features'][0].get('uri'), (piece, f)

def test_real_credentials(bsky, folder):
    "7, 8: the main password refused; a wrong app password, handle or server each named"
    s, acc = bsky, bsky.account('creds')
    set_profile(s, acc, labels=BOT_LABEL)
    def fails(**kw):
        with pytest.raises(UserError) as e: run(folder, s, acc, **kw)
        assert '\n' not in str(e.value) and acc.password not in str(e.value) and acc.app_password not in str(e.value), e.value
        return str(e.value)
    assert fails(password=acc.password).startswith(f'BLUESKY_APP_PASSWORD holds the main password of {acc.handle}')
    assert fails(password='aaaa-bbbb-cccc-dddd').startswith(f'Bluesky refused the app password of {acc.handle} (')
    with pytest.raises(UserError, match=f'No Bluesky account has the handle nobody{acc.handle}'):
        bot(folder, f'bluesky:nobody{acc.handle}', base_url=s.pds, env={'BLUESKY_APP_PASSWORD': acc.app_password, 'HUGGINGTWEETS_PLC_URL': s.plc}, say=lambda x: None)
    msg = fails(base_url=s.appview) # the AppView knows the handle, but logs no one in
    assert f'its DID document says the account lives on http://localhost:{s.pds.rsplit(":", 1)[1]}, so drop --base-url' in msg, msg
    assert run(folder, s, acc)[0] # all three right: it posts

def test_real_replies(bsky, folder):
    "1, 2, 3 and the thread cap: behind 51 follows a mention is answered; a labelled bot is not; one dated before the last answer is; a thread gets `thread_replies` answers"
    s = bsky
    me, friend, other = s.account('replier'), s.account('friend'), s.account('otherbot')
    set_profile(s, me, labels=BOT_LABEL); set_profile(s, other, labels=BOT_LABEL)
    a = mention(s, friend, me, 'coffee or tea?')
    b = mention(s, other, me, 'beep')
    own = [create(s, me, 'app.bsky.feed.post', {'$type': 'app.bsky.feed.post', 'text': f'post {i}', 'createdAt': now()}) for i in range(51)]
    for p in own: create(s, friend, 'app.bsky.feed.like', {'$type': 'app.bsky.feed.like', 'subject': p, 'createdAt': now()}) # 51 likes after the mentions (the AppView folds follows of one account into one)
    s.wait_visible(a['uri'], b['uri'])
    s.wait(lambda: len(s.client(me).app.bsky.notification.list_notifications({'limit': 100}).notifications) >= 53 or 1 / 0, 'the AppView to notify the likes')
    sent, said = run(folder, s, me, reply=True, post=False)
    fct.test_eq([x.to for x in sent], [a['uri']])
    assert f'Not answering {other.handle}: a bot (no bot loops).' in said, said
    fct.test_eq({k: v for k, v in post_record(s, sent[0].id)['reply']['parent'].items() if k != '$type'}, a)
    late = mention(s, friend, me, 'an old thought', created=now(-30)) # dated a month ago: the AppView dates it then
    s.wait_visible(late['uri'])
    fct.test_eq([x.to for x in run(folder, s, me, reply=True, post=False)[0]], [late['uri']])
    # friend answers each of the bot's replies in the thread of `a`; the thread gets 3 answers at most
    parent = {'uri': sent[0].id, 'cid': s.client(me).app.bsky.feed.get_posts({'uris': [sent[0].id]}).posts[0].cid} if s.wait_visible(sent[0].id) is None else None
    for i in range(3):
        r = mention(s, friend, me, f'and then {i}?', reply={'root': a, 'parent': parent})
        s.wait_visible(r['uri'])
        got, said = run(folder, s, me, reply=True, post=False, thread_replies=3)
        if i < 2:
            fct.test_eq([x.to for x in got], [r['uri']])
            s.wait_visible(got[0].id)
            parent = {'uri': got[0].id, 'cid': s.client(me).app.bsky.feed.get_posts({'uris': [got[0].id]}).posts[0].cid}
        else:
            fct.test_eq(got, [])
            assert f'Not answering {friend.handle}: the bot answered 3 times in that thread already.' in said, said

def test_real_rootless_reply(bsky, folder):
    "A reply whose root has no cid (a record the PDS stored unvalidated): the reference AppView leaves it out, so the round answers the rest (the stand-in test answers it)"
    s = bsky
    me, friend = s.account('rootless'), s.account('pal')
    set_profile(s, me, labels=BOT_LABEL)
    first = mention(s, friend, me, 'the start')
    r = mention(s, friend, me, 'a reply', reply={'root': {'uri': first['uri']}, 'parent': first}, validate=False)
    after = mention(s, friend, me, 'and after')
    s.wait_visible(first['uri'], after['uri']) # the AppView indexes in order: `r` came before `after`
    sent, said = run(folder, s, me, reply=True, post=False)
    fct.test_eq(sorted(x.to for x in sent), sorted([first['uri'], after['uri']]))
    run(folder, s, me, reply=True, post=False) # the next round: nothing fails
