"Remote sources end to end, through `sources.fetch`, against a local replay server (no network)"
import base64, datetime as dt, json, re, sys, time, types
from urllib.parse import quote, quote_plus
import pytest
import fastcore.test as fct
from fakeserver import DROP, FakeServer, InTurn, fixture, reply
from huggingtweets import bluesky, social, sources, xapi
from huggingtweets import mastodon as hmastodon
from huggingtweets.core import Post, UserError
from huggingtweets.sources import CACHE_NAME, Endpoints, FetchOptions, cache_dir, load_cache, parse_spec

TOKEN = 'AAAAAAAAAAAAAAAAAAAAAsecret-test-token%3Dxyz' # shaped like a real X bearer token
SECRET = 'X_SECRET_TOKEN_123'

def b64(s:str)->str: return base64.b64encode(s.encode()).decode()

def _unb64(run:str)->str:
    "What a run of base64 characters decodes to, tried at each of the 4 alignments"
    out = []
    for i in range(4):
        r = run[i:].replace('-', '+').replace('_', '/')
        r = r[:len(r) - len(r) % 4]
        try: out.append(base64.b64decode(r).decode('latin-1'))
        except ValueError: pass
    return '\n'.join(out)

def leaks(msg:str, secrets=(TOKEN, SECRET))->list[str]:
    "The secrets `msg` shows: raw, percent-encoded, JSON-escaped, or inside a base64 run"
    decoded = [_unb64(r) for r in re.findall(r'[A-Za-z0-9+/_-]{8,}={0,2}', msg)]
    return [t for t in secrets
            if any(f in msg for f in {t, quote(t, safe=''), quote_plus(t), json.dumps(t)[1:-1]}) or any(t in d for d in decoded)]

def test_leaks_sees_every_form():
    for f in [TOKEN, quote(TOKEN, safe=''), f'Bearer {SECRET}', b64(f'Authorization: Bearer {SECRET}'), f'x{b64(SECRET)}.']:
        assert leaks(f'the server said {f} back'), f
    fct.test_eq(leaks('X rejected the bearer token (401 Unauthorized): *** is not valid'), [])

def opts(**kw): return FetchOptions(**{'progress': False, **kw})

def fetch(spec, tmp_path, refresh=False, **kw):
    "`sources.fetch` with `FetchOptions(**kw)` and no progress bar"
    return sources.fetch(spec, tmp_path, refresh, opts=opts(**kw))

def fetch_fails(spec, tmp_path, contains, **kw):
    "Fetch `spec`, expecting a UserError that contains `contains` and shows no token; return its message"
    with pytest.raises(UserError) as e: fetch(spec, tmp_path, **kw)
    msg = str(e.value)
    assert contains in msg, msg
    fct.test_eq(leaks(msg), [])
    return msg

def cached(tmp_path, spec):
    "The account cached for `spec`, and the stamp it was cached with"
    return load_cache(cache_dir(tmp_path, parse_spec(spec))/CACHE_NAME)

def no_cache(tmp_path): return not any(tmp_path.rglob(CACHE_NAME))

@pytest.fixture
def sleeps(monkeypatch):
    "The seconds `time.sleep` was asked to sleep (it returns at once)"
    slept = []
    monkeypatch.setattr(social.time, 'sleep', slept.append)
    return slept

# ----------------------------------------------------------------------------- X API v2

X_USER = '/2/users/by/username/loomweaver'
X_TWEETS = '/2/users/1511111111111111111/tweets'
NEXT = fixture('x_tweets_page1.json')['meta']['next_token']

def x_tweets(second_page):
    "The timeline route: page 1 without a pagination token, then `second_page` for the token"
    if isinstance(second_page, list): second_page = InTurn(second_page)
    def route(req):
        tok = req.param('pagination_token')
        if tok is None: return reply(fixture('x_tweets_page1.json'))
        assert tok == NEXT
        return second_page(req) if callable(second_page) else second_page
    return route

def x_server(server, second_page=None):
    server.on('GET', X_USER, reply(fixture('x_user.json')))
    server.on('GET', X_USER.replace('loomweaver', 'LoomWeaver'), reply(fixture('x_user.json'))) # X ignores case
    server.on('GET', X_TWEETS, x_tweets(second_page or reply(fixture('x_tweets_page2.json'))))
    return Endpoints(x=server.url)

def test_x_pages_retweets_profile_and_cache(server, tmp_path):
    acc = fetch('x:LoomWeaver', tmp_path, endpoints=x_server(server), x_token=TOKEN)
    fct.test_eq((acc.handle, acc.source, acc.user_name), ('loomweaver', 'x', 'Loom Weaver'))
    fct.test_eq(acc.avatar, 'https://pbs.twimg.com/profile_images/1522222222222222222/Qw3rTyUi_400x400.jpg')
    fct.test_eq([p.repost for p in acc.posts], [False, True, False, False, False]) # quoted and replied_to are not reposts
    fct.test_eq(acc.posts[0], Post('Warped the new linen today &amp; it only took four hours. The loom forgives nothing.', False,
                                   '1700000000000000003', '2023-09-08T18:02:11.000Z'))
    fct.test_eq(cached(tmp_path, 'x:loomweaver'), (acc, []))
    users, pages = server.got(X_USER.replace('loomweaver', 'LoomWeaver')), server.got(X_TWEETS)
    fct.test_eq(users[0].query['user.fields'], ['name,profile_image_url'])
    fct.test_eq([p.param('pagination_token') for p in pages], [None, NEXT])
    fct.test_eq({(p.param('max_results'), p.param('tweet.fields')) for p in pages}, {('100', 'created_at,referenced_tweets')})
    assert all(r.headers['Authorization'] == f'Bearer {TOKEN}' for r in server.got())

def test_x_stops_at_the_api_cap(server, tmp_path):
    "X serves at most 3,200 tweets; a server that keeps giving next_token is not followed past that"
    n = iter(range(10**6))
    def page(req):
        data = [{'id': str(i), 'text': f'tweet number {i}', 'created_at': '2023-01-01T00:00:00.000Z', 'edit_history_tweet_ids': [str(i)]}
                for i in (next(n) for _ in range(100))]
        return reply({'data': data, 'meta': {'result_count': 100, 'next_token': f'tok{data[-1]["id"]}'}})
    server.on('GET', X_USER, reply(fixture('x_user.json'))).on('GET', X_TWEETS, page)
    acc = xapi.fetch_x('loomweaver', TOKEN, server.url)
    fct.test_eq(len(acc.posts), xapi.X_MAX_TWEETS)
    fct.test_eq(len(server.got(X_TWEETS)), 32)

def test_x_needs_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv('X_BEARER_TOKEN', raising=False)
    msg = fetch_fails('x:loomweaver', tmp_path, 'set X_BEARER_TOKEN', endpoints=Endpoints(x='http://127.0.0.1:9'))
    assert 'snscrape:' in msg and 'archive:' in msg

def test_x_unknown_user(server, tmp_path):
    server.on('GET', '/2/users/by/username/nobody_here', reply(fixture('x_user_not_found.json')))
    msg = fetch_fails('x:nobody_here', tmp_path, 'X has no readable user @nobody_here (Could not find user', endpoints=Endpoints(x=server.url), x_token=TOKEN)
    assert TOKEN not in msg and no_cache(tmp_path)

def test_x_protected_account(server, tmp_path):
    x_server(server)
    server.on('GET', X_TWEETS, reply(fixture('x_protected.json')))
    fetch_fails('x:loomweaver', tmp_path, 'may be protected', endpoints=Endpoints(x=server.url), x_token=TOKEN)

@pytest.mark.parametrize('status,fx,says', [(401, 'x_unauthorized.json', 'rejected the bearer token'), (403, None, '403 Forbidden'), (404, None, 'no user @loomweaver')])
def test_x_http_errors(server, tmp_path, status, fx, says):
    server.on('GET', X_USER, reply(fixture(fx) if fx else {'title': 'x', 'detail': f'status {status}'}, status))
    msg = fetch_fails('x:loomweaver', tmp_path, says, endpoints=Endpoints(x=server.url), x_token=TOKEN)
    assert TOKEN not in msg and no_cache(tmp_path)

def test_x_short_rate_limit_is_waited_out(server, tmp_path, sleeps):
    limited = reply(fixture('x_too_many_requests.json'), 429, {'x-rate-limit-reset': int(time.time()) + 1, 'x-rate-limit-remaining': 0})
    x_server(server, [limited, reply(fixture('x_tweets_page2.json'))])
    acc = fetch('x:loomweaver', tmp_path, endpoints=Endpoints(x=server.url), x_token=TOKEN)
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(X_TWEETS)), 3)
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 3.5, sleeps

def test_x_long_rate_limit_says_when(server, tmp_path):
    limited = reply(fixture('x_too_many_requests.json'), 429, {'x-rate-limit-reset': int(time.time()) + 930})
    x_server(server, limited)
    msg = fetch_fails('x:loomweaver', tmp_path, 'X is rate-limiting requests for about 16 more minutes: try again after',
                      endpoints=Endpoints(x=server.url), x_token=TOKEN)
    assert TOKEN not in msg and no_cache(tmp_path)

def test_x_timeout(server):
    x_server(server, lambda req: (time.sleep(1), reply(fixture('x_tweets_page2.json')))[1])
    with pytest.raises(UserError, match=r"failed while fetching page 2 of @loomweaver's tweets \(it timed out\)"):
        xapi.fetch_x('loomweaver', TOKEN, server.url, timeout=0.3)

def test_x_connection_dropped_mid_paging(server, tmp_path):
    x_server(server, DROP)
    msg = fetch_fails('x:loomweaver', tmp_path, "failed while fetching page 2 of @loomweaver's tweets",
                      endpoints=Endpoints(x=server.url), x_token=TOKEN)
    assert 'try again' in msg and TOKEN not in msg and no_cache(tmp_path)

# ----------------------------------------------------------------------------- snscrape

def items():
    return [json.loads(l) for l in fixture('snscrape_tweets.jsonl').splitlines() if l.strip()]

def as_objects(d):
    "A dict from --jsonl as the snscrape objects it came from (attributes, datetime dates)"
    if isinstance(d, dict):
        o = types.SimpleNamespace(**{k: as_objects(v) for k, v in d.items()})
        if isinstance(getattr(o, 'date', None), str): o.date = dt.datetime.fromisoformat(o.date)
        return o
    return [as_objects(x) for x in d] if isinstance(d, list) else d

def fake_snscrape(monkeypatch, items, fail_after=None):
    "Install a fake `snscrape.modules.twitter` whose profile scraper yields `items`"
    got = []
    class TwitterProfileScraper:
        def __init__(self, user): got.append(user); self.user = user
        def get_items(self):
            for i, it in enumerate(items):
                if i == fail_after: raise RuntimeError('Unable to find guest token')
                yield it
    pkg, mods, tw = (types.ModuleType(n) for n in ('snscrape', 'snscrape.modules', 'snscrape.modules.twitter'))
    tw.TwitterProfileScraper, mods.twitter, pkg.modules = TwitterProfileScraper, tw, mods
    for m in (pkg, mods, tw): monkeypatch.setitem(sys.modules, m.__name__, m)
    return got

def test_snscrape_to_post_reads_jsonl_and_objects():
    want = [Post('Warped the new linen today &amp; it only took four hours.\n\nThe loom forgives nothing.', False, '1700000000000000003', '2023-09-08T18:02:11+00:00'),
            Post('RT @dyehouse_dan: Indigo vat is ready, bring your skeins before Friday', True, '1700000000000000002', '2023-09-07T09:15:40+00:00'),
            Post('@dyehouse_dan saving a spot for the wool blend', False, '1700000000000000001', '2023-09-06T21:44:03+00:00')]
    fct.test_eq([xapi.snscrape_to_post(d) for d in items()], want)
    fct.test_eq([xapi.snscrape_to_post(as_objects(d)) for d in items()], want)

def test_snscrape_fetch_with_a_fake_module(monkeypatch, tmp_path):
    got = fake_snscrape(monkeypatch, [as_objects(d) for d in items()])
    acc = fetch('snscrape:loomweaver', tmp_path)
    fct.test_eq(got, ['loomweaver'])
    fct.test_eq((acc.source, acc.user_name, len(acc.posts), [p.repost for p in acc.posts]), ('snscrape', 'Loom Weaver', 3, [False, True, False]))
    fct.test_eq(acc.avatar, 'https://pbs.twimg.com/profile_images/1522222222222222222/Qw3rTyUi_400x400.jpg')
    fct.test_eq(cached(tmp_path, 'snscrape:loomweaver'), (acc, []))

def test_snscrape_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'snscrape', None)
    msg = fetch_fails('snscrape:loomweaver', tmp_path, 'optional extra (pip install snscrape)')
    assert 'no longer works since X closed' in msg and 'archive:PATH' in msg and 'x:loomweaver' in msg

def test_snscrape_broken_on_import(monkeypatch, tmp_path):
    "On Python >= 3.12 importing snscrape raises AttributeError, not ImportError"
    pkg = tmp_path/'lib'/'snscrape'
    (pkg/'modules').mkdir(parents=True)
    (pkg/'__init__.py').write_text("raise AttributeError(\"'FileFinder' object has no attribute 'find_module'\")\n")
    (pkg/'modules'/'__init__.py').write_text('')
    monkeypatch.syspath_prepend(str(tmp_path/'lib'))
    for m in [m for m in sys.modules if m == 'snscrape' or m.startswith('snscrape.')]: monkeypatch.delitem(sys.modules, m)
    fetch_fails('snscrape:loomweaver', tmp_path/'data', 'could not be loaded (AttributeError)')

def test_snscrape_failing_mid_way(monkeypatch, tmp_path):
    fake_snscrape(monkeypatch, [as_objects(d) for d in items()], fail_after=2)
    msg = fetch_fails('snscrape:loomweaver', tmp_path, 'snscrape failed on @loomweaver after 2 tweets (RuntimeError: Unable to find guest token)')
    assert 'archive:PATH' in msg and no_cache(tmp_path)

# ----------------------------------------------------------------------------- Bluesky

PROFILE, FEED = '/xrpc/app.bsky.actor.getProfile', '/xrpc/app.bsky.feed.getAuthorFeed'
CURSOR = fixture('bluesky_feed_page1.json')['cursor']

def bsky_feed(second_page):
    if isinstance(second_page, list): second_page = InTurn(second_page)
    def route(req):
        if req.param('cursor') is None: return reply(fixture('bluesky_feed_page1.json'))
        assert req.param('cursor') == CURSOR
        return second_page(req) if callable(second_page) else second_page
    return route

def bsky_server(server, second_page=None):
    server.on('GET', PROFILE, reply(fixture('bluesky_profile.json')))
    server.on('GET', FEED, bsky_feed(second_page or reply(fixture('bluesky_feed_page2.json'))))
    return Endpoints(bluesky=server.url)

def test_bluesky_pages_reposts_profile_and_cache(server, tmp_path):
    acc = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server))
    fct.test_eq((acc.handle, acc.source, acc.user_name), ('loomweaver.bsky.social', 'bluesky', 'Loom Weaver'))
    assert acc.avatar.startswith('https://cdn.bsky.app/img/avatar/plain/did:plc:w3avrlqzk5n7xjm2hq4tcdye/')
    fct.test_eq([p.repost for p in acc.posts], [False, True, False, False, False])
    fct.test_eq(acc.posts[1].text, 'Open studio on Saturday, bring a project')
    fct.test_eq(acc.posts[3], Post('Cut the first scarf off the loom.\nFringe twisting is a meditation.', False,
                                   'at://did:plc:w3avrlqzk5n7xjm2hq4tcdye/app.bsky.feed.post/3kp7mnopqrs2c', '2024-02-20T15:45:10.000Z'))
    fct.test_eq(cached(tmp_path, 'bluesky:loomweaver'), (acc, []))
    fct.test_eq(server.got(PROFILE)[0].param('actor'), 'loomweaver.bsky.social')
    pages = server.got(FEED)
    fct.test_eq([(p.param('actor'), p.param('limit'), p.param('cursor')) for p in pages],
                [('did:plc:w3avrlqzk5n7xjm2hq4tcdye', '100', None), ('did:plc:w3avrlqzk5n7xjm2hq4tcdye', '100', CURSOR)])
    assert not any('Authorization' in r.headers for r in server.got()) # no login

def test_bluesky_page_that_atprotos_models_reject(server, tmp_path):
    "A display name over the lexicon's 640 characters makes atproto reject the page: it is read as plain JSON"
    page = fixture('bluesky_feed_page2.json')
    page['feed'][0]['post']['author']['displayName'] = 'Loom Weaver ' * 60
    bsky_server(server, reply(page))
    acc = bluesky.fetch_bluesky('loomweaver.bsky.social', server.url)
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(FEED)), 3) # page 2 read twice: as models, then as JSON

def test_bluesky_unknown_actor(server, tmp_path):
    server.on('GET', PROFILE, reply(fixture('bluesky_profile_not_found.json'), 400))
    fetch_fails('bluesky:nobody', tmp_path, 'Bluesky has no account nobody.bsky.social (InvalidRequest: Profile not found): check the handle.',
                endpoints=Endpoints(bluesky=server.url))
    assert no_cache(tmp_path)

def test_bluesky_short_rate_limit_is_waited_out(server, tmp_path, sleeps):
    limited = reply({'error': 'RateLimitExceeded', 'message': 'Rate Limit Exceeded'}, 429,
                    {'ratelimit-limit': 3000, 'ratelimit-remaining': 0, 'ratelimit-reset': int(time.time()) + 1, 'ratelimit-policy': '3000;w=300'})
    acc = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server, [limited, reply(fixture('bluesky_feed_page2.json'))]))
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(FEED)), 3)
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 3.5, sleeps

def test_bluesky_long_rate_limit_says_when(server, tmp_path):
    limited = reply({'error': 'RateLimitExceeded', 'message': 'Rate Limit Exceeded'}, 429, {'ratelimit-reset': int(time.time()) + 3630})
    fetch_fails('bluesky:loomweaver', tmp_path, 'Bluesky is rate-limiting requests for about 61 more minutes: try again after',
                endpoints=bsky_server(server, limited))
    assert no_cache(tmp_path)

def test_bluesky_connection_dropped_mid_paging(server, tmp_path):
    msg = fetch_fails('bluesky:loomweaver', tmp_path, "failed while fetching page 2 of loomweaver.bsky.social's posts",
                      endpoints=bsky_server(server, DROP))
    assert 'try again' in msg and no_cache(tmp_path)

def test_bluesky_timeout(server):
    bsky_server(server, lambda req: (time.sleep(1), reply(fixture('bluesky_feed_page2.json')))[1])
    with pytest.raises(UserError, match=r"failed while fetching page 2 of loomweaver.bsky.social's posts \(it timed out\)"):
        bluesky.fetch_bluesky('loomweaver.bsky.social', server.url, timeout=0.3)


def test_bluesky_progress_bar(server, capsys):
    bsky_server(server)
    bluesky.fetch_bluesky('loomweaver.bsky.social', server.url, progress=True)
    assert 'bluesky:loomweaver.bsky.social' in capsys.readouterr().err

# ----------------------------------------------------------------------------- Mastodon

LOOKUP, STATUSES = '/api/v1/accounts/lookup', '/api/v1/accounts/110222333444555666/statuses'
MAX_ID = fixture('mastodon_statuses_page1.json')[-1]['id']

def mastodon_statuses(server, second_page):
    if isinstance(second_page, list): second_page = InTurn(second_page)
    def route(req):
        if req.param('max_id') is None:
            link = (f'<{server.url}{STATUSES}?limit=40&max_id={MAX_ID}>; rel="next", '
                    f'<{server.url}{STATUSES}?limit=40&min_id=112010000000000003>; rel="prev"')
            return reply(fixture('mastodon_statuses_page1.json'), headers={'Link': link})
        assert req.param('max_id') == MAX_ID
        return second_page(req) if callable(second_page) else second_page
    return route

def mastodon_server(server, second_page=None):
    server.on('GET', LOOKUP, reply(fixture('mastodon_account.json')))
    server.on('GET', STATUSES, mastodon_statuses(server, second_page or reply(fixture('mastodon_statuses_page2.json'))))
    return Endpoints(mastodon=server.url)

def test_mastodon_pages_reblogs_html_and_cache(server, tmp_path):
    acc = fetch('mastodon:@loomweaver@example.social', tmp_path, endpoints=mastodon_server(server))
    fct.test_eq((acc.handle, acc.source, acc.user_name), ('loomweaver@example.social', 'mastodon', 'Loom Weaver 🧶'))
    fct.test_eq(acc.avatar, fixture('mastodon_account.json')['avatar'])
    fct.test_eq([p.repost for p in acc.posts], [False, True, False, False, False])
    fct.test_eq([p.text for p in acc.posts[:3]], [
        'Threading heddles for a 600-end warp.\nSend snacks & patience.\n\nDay two of "just one more row".',
        'Indigo vat is ready, bring your skeins before Friday #dyeing',
        '@dyehouse_dan saving a spot for the wool blend, see https://example.org/wool-blend'])
    fct.test_eq((acc.posts[0].id, acc.posts[0].date), ('112010000000000003', '2024-03-04T19:20:00+00:00'))
    fct.test_eq(cached(tmp_path, 'mastodon:@loomweaver@example.social'), (acc, []))
    fct.test_eq(server.got(LOOKUP)[0].param('acct'), 'loomweaver@example.social')
    fct.test_eq([(r.param('limit'), r.param('max_id')) for r in server.got(STATUSES)], [('40', None), ('40', MAX_ID)])
    assert not any('Authorization' in r.headers for r in server.got()) # no login

def test_mastodon_default_base_url_is_the_instance(monkeypatch):
    seen = {}
    def init(self, *args, **kw): seen.update(kw); raise RuntimeError('stop here')
    import mastodon
    monkeypatch.setattr(mastodon.Mastodon, '__init__', init)
    with pytest.raises(RuntimeError): hmastodon.fetch_mastodon('@someone@mastodon.example')
    fct.test_eq((seen['api_base_url'], seen['version_check_mode'], seen['ratelimit_method']), ('https://mastodon.example', 'none', 'throw'))

def test_mastodon_not_json(server, tmp_path):
    server.on('GET', LOOKUP, reply('<html>Maintenance</html>', 503))
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'answered 503 while looking up @loomweaver@example.social: try again later.',
                endpoints=Endpoints(mastodon=server.url))

def test_bluesky_not_json(server, tmp_path):
    server.on('GET', PROFILE, reply('<html>Maintenance</html>', 200))
    fetch_fails('bluesky:loomweaver', tmp_path, 'failed while looking up loomweaver.bsky.social (the answer was not JSON)',
                endpoints=Endpoints(bluesky=server.url))

def test_x_not_json(server, tmp_path):
    server.on('GET', X_USER, reply('<html>Maintenance</html>', 200))
    fetch_fails('x:loomweaver', tmp_path, 'failed while looking up @loomweaver (the answer was not JSON)',
                endpoints=Endpoints(x=server.url), x_token=TOKEN)

def test_mastodon_timeout(server):
    mastodon_server(server, lambda req: (time.sleep(1), reply(fixture('mastodon_statuses_page2.json')))[1])
    with pytest.raises(UserError, match=r"failed while fetching page 2 of @loomweaver@example.social's statuses \(it timed out\)"):
        hmastodon.fetch_mastodon('loomweaver@example.social', server.url, timeout=0.3)

def test_mastodon_unknown_account(server, tmp_path):
    server.on('GET', LOOKUP, reply(fixture('mastodon_not_found.json'), 404))
    fetch_fails('mastodon:@nobody@example.social', tmp_path, 'has no account @nobody@example.social (404 Not Found)',
                endpoints=Endpoints(mastodon=server.url))
    assert no_cache(tmp_path)

def test_mastodon_login_required(server, tmp_path):
    server.on('GET', LOOKUP, reply({'error': 'This API requires an authenticated user'}, 401))
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'does not let logged-out visitors read', endpoints=Endpoints(mastodon=server.url))

def iso(t): return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')

def test_mastodon_short_rate_limit_is_waited_out(server, tmp_path, sleeps):
    limited = lambda req: reply({'error': 'Too many requests'}, 429, {'X-RateLimit-Limit': 300, 'X-RateLimit-Remaining': 0, 'X-RateLimit-Reset': iso(time.time() + 1)})
    acc = fetch('mastodon:@loomweaver@example.social', tmp_path, 
                endpoints=mastodon_server(server, [limited, reply(fixture('mastodon_statuses_page2.json'))]))
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(STATUSES)), 3)
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 3.5, sleeps

def test_mastodon_long_rate_limit_says_when(server, tmp_path):
    limited = lambda req: reply({'error': 'Too many requests'}, 429, {'X-RateLimit-Remaining': 0, 'X-RateLimit-Reset': iso(time.time() + 330)})
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'is rate-limiting requests for about 6 more minutes: try again after',
                endpoints=mastodon_server(server, limited))
    assert no_cache(tmp_path)

def test_mastodon_connection_dropped_mid_paging(server, tmp_path):
    msg = fetch_fails('mastodon:@loomweaver@example.social', tmp_path, "failed while fetching page 2 of @loomweaver@example.social's statuses",
                      endpoints=mastodon_server(server, DROP))
    assert 'try again' in msg and no_cache(tmp_path)

def test_a_failed_refresh_keeps_the_old_cache(server, tmp_path):
    eps = mastodon_server(server)
    acc = fetch('mastodon:@loomweaver@example.social', tmp_path, endpoints=eps)
    server.on('GET', STATUSES, mastodon_statuses(server, DROP))
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'failed while', endpoints=eps, refresh=True)
    fct.test_eq(cached(tmp_path, 'mastodon:@loomweaver@example.social'), (acc, []))

# ----------------------------------------------------------------------------- all remote sources

@pytest.mark.parametrize('spec,service,what', [('x:loomweaver', 'X', 'looking up @loomweaver'),
                                               ('bluesky:loomweaver', 'Bluesky', 'looking up loomweaver.bsky.social'),
                                               ('mastodon:@loomweaver@example.social', 'Mastodon', 'looking up @loomweaver@example.social')])
def test_server_down(tmp_path, spec, service, what):
    with FakeServer() as s: url = s.url # nothing listens there any more
    msg = fetch_fails(spec, tmp_path, f"The request to {service} ({url[7:]}) failed while {what} (the connection was refused): check your network and try again.",
                      endpoints=Endpoints(x=url, bluesky=url, mastodon=url), x_token=TOKEN)
    assert TOKEN not in msg and no_cache(tmp_path)

# ----------------------------------------------------------------------------- paging that loops

def x_page(ids, token=None):
    "An X timeline page of tweets `ids`, with `token` as its next_token"
    data = [{'id': str(i), 'text': f'tweet number {i} about the loom', 'created_at': '2023-01-01T00:00:00.000Z', 'edit_history_tweet_ids': [str(i)]} for i in ids]
    return reply({'data': data, 'meta': {'result_count': len(data), **({'next_token': token} if token else {})}})

def assert_unique(acc):
    keys = [(p.id, p.repost) for p in acc.posts]
    fct.test_eq(len(keys), len(set(keys)))

def cache_lines(tmp_path, spec): return (cache_dir(tmp_path, parse_spec(spec))/CACHE_NAME).read_text(encoding='utf-8').splitlines()

@pytest.mark.parametrize('second', ['new tweets, same token', 'the first page again'])
def test_x_repeated_next_token_stops(server, tmp_path, second):
    page2 = fixture('x_tweets_page2.json') | {'meta': fixture('x_tweets_page1.json')['meta']} if second.startswith('new') else fixture('x_tweets_page1.json')
    x_server(server, reply(page2))
    acc = fetch('x:loomweaver', tmp_path, endpoints=Endpoints(x=server.url), x_token=TOKEN)
    fct.test_eq(len(server.got(X_TWEETS)), 2)
    fct.test_eq(len(acc.posts), 5 if second.startswith('new') else 3)
    assert_unique(acc)

def test_x_pages_that_cycle_keep_each_tweet_once(server, tmp_path):
    "Fresh tokens forever, but the tweets go round 200 of them: 200 are kept, not 3,200"
    pages = iter(range(10**6))
    def page(req):
        k = next(pages)
        return x_page([i % 200 for i in range(100 * k, 100 * k + 100)], f'tok{k}')
    server.on('GET', X_USER, reply(fixture('x_user.json'))).on('GET', X_TWEETS, page)
    acc = fetch('x:loomweaver', tmp_path, endpoints=Endpoints(x=server.url), x_token=TOKEN)
    fct.test_eq(len(acc.posts), 200)
    assert_unique(acc)
    fct.test_eq(len(cache_lines(tmp_path, 'x:loomweaver')), 1 + 200)
    assert len(server.got(X_TWEETS)) <= 4, len(server.got(X_TWEETS))

def test_x_overlapping_pages_keep_the_new_tweets(server, tmp_path):
    "Each page repeats half of the one before: the repeats are dropped, the rest kept"
    pages = {None: 0, **{f'tok{k}': k for k in range(1, 5)}}
    server.on('GET', X_USER, reply(fixture('x_user.json')))
    server.on('GET', X_TWEETS, lambda req: x_page(range(50 * (k := pages[req.param('pagination_token')]), 50 * k + 100), f'tok{k+1}' if k < 4 else None))
    acc = fetch('x:loomweaver', tmp_path, endpoints=Endpoints(x=server.url), x_token=TOKEN)
    fct.test_eq([p.id for p in acc.posts], [str(i) for i in range(300)])
    fct.test_eq(len(server.got(X_TWEETS)), 5)

def test_x_same_tweet_twice_in_one_page_is_kept_once(server, tmp_path):
    server.on('GET', X_USER, reply(fixture('x_user.json'))).on('GET', X_TWEETS, x_page([1, 2, 2, 3, 1]))
    acc = fetch('x:loomweaver', tmp_path, endpoints=Endpoints(x=server.url), x_token=TOKEN)
    fct.test_eq([p.id for p in acc.posts], ['1', '2', '3'])

def bsky_page(feed, cursor=None): return reply({'feed': feed, **({'cursor': cursor} if cursor else {})})

@pytest.mark.parametrize('second', ['new posts, same cursor', 'the first page again'])
def test_bluesky_repeated_cursor_or_page_stops(server, tmp_path, second):
    p1, p2 = fixture('bluesky_feed_page1.json'), fixture('bluesky_feed_page2.json')
    acc = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server, bsky_page(p2['feed'], CURSOR) if second.startswith('new') else reply(p1)))
    fct.test_eq(len(server.got(FEED)), 2)
    fct.test_eq(len(acc.posts), 5 if second.startswith('new') else 3)
    assert_unique(acc)

def self_repost(item):
    "Feed item `item` reposted by the account itself"
    by = fixture('bluesky_feed_page1.json')['feed'][1]['reason']['by'] # loomweaver.bsky.social
    return {'post': item['post'], 'reason': {'$type': bluesky.BSKY_REPOST, 'by': by, 'indexedAt': '2024-03-05T09:00:00.000Z'}}

def test_bluesky_self_repost_is_a_second_post(server, tmp_path):
    "A post page 1 had comes again (dropped); a post and its author's repost of it, on one page or two, are two posts"
    p1, p2 = fixture('bluesky_feed_page1.json'), fixture('bluesky_feed_page2.json')
    old, mine = p1['feed'][0], p2['feed'][0]
    acc = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server, bsky_page([old, self_repost(old), mine, self_repost(mine), p2['feed'][1]])))
    for item in old, mine:
        uri = item['post']['uri']
        fct.test_eq([(p.id, p.repost) for p in acc.posts if p.id == uri], [(uri, False), (uri, True)])
    fct.test_eq(len(acc.posts), 3 + 4)
    assert_unique(acc)
    fct.test_eq(len(cache_lines(tmp_path, 'bluesky:loomweaver')), 1 + 7)

def test_bluesky_same_post_twice_in_one_page_is_kept_once(server, tmp_path):
    p2 = fixture('bluesky_feed_page2.json')
    acc = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server, bsky_page([p2['feed'][0], p2['feed'][0], p2['feed'][1]])))
    fct.test_eq(len(acc.posts), 3 + 2)
    assert_unique(acc)

def masto_page(server, statuses, next_max_id):
    "A statuses page whose Link header points next at `max_id=next_max_id`"
    return reply(statuses, headers={'Link': f'<{server.url}{STATUSES}?limit=40&max_id={next_max_id}>; rel="next"'})

def test_mastodon_link_next_to_the_same_page_stops(server, tmp_path):
    "A server that ignores max_id: page 1's Link next gives page 1 again"
    server.on('GET', LOOKUP, reply(fixture('mastodon_account.json')))
    server.on('GET', STATUSES, lambda req: masto_page(server, fixture('mastodon_statuses_page1.json'), MAX_ID))
    acc = fetch('mastodon:@loomweaver@example.social', tmp_path, endpoints=Endpoints(mastodon=server.url))
    fct.test_eq([p.id for p in acc.posts], [s['id'] for s in fixture('mastodon_statuses_page1.json')])
    fct.test_eq(len(server.got(STATUSES)), 2)

def test_mastodon_page_linking_to_itself_with_overlap(server, tmp_path):
    "Page 2 repeats page 1's last status, and its Link next is page 2 again"
    p1, p2 = fixture('mastodon_statuses_page1.json'), fixture('mastodon_statuses_page2.json')
    acc = fetch('mastodon:@loomweaver@example.social', tmp_path,
                endpoints=mastodon_server(server, lambda req: masto_page(server, p1[-1:] + p2, MAX_ID)))
    fct.test_eq([p.id for p in acc.posts], [s['id'] for s in p1 + p2])
    fct.test_eq(len(server.got(STATUSES)), 3)
    fct.test_eq(len(cache_lines(tmp_path, 'mastodon:@loomweaver@example.social')), 1 + 5)

def test_mastodon_same_status_twice_in_one_page_is_kept_once(server, tmp_path):
    p2 = fixture('mastodon_statuses_page2.json')
    acc = fetch('mastodon:@loomweaver@example.social', tmp_path, endpoints=mastodon_server(server, reply(p2 + p2[:1])))
    fct.test_eq(len(acc.posts), 3 + 2)
    assert_unique(acc)

# ----------------------------------------------------------------------------- faults, on every remote source

def x_limited(reset): return reply(fixture('x_too_many_requests.json'), 429, {'x-rate-limit-reset': int(reset), 'x-rate-limit-remaining': 0})
def bsky_limited(reset): return reply({'error': 'RateLimitExceeded', 'message': 'Rate Limit Exceeded'}, 429,
                                      {'ratelimit-limit': 3000, 'ratelimit-remaining': 0, 'ratelimit-reset': int(reset), 'ratelimit-policy': '3000;w=300'})
def masto_limited(reset): return reply({'error': 'Too many requests'}, 429, {'X-RateLimit-Limit': 300, 'X-RateLimit-Remaining': 0, 'X-RateLimit-Reset': iso(reset)})

REMOTE = { # how each remote source is served, where it can fail, and what its messages say it was doing
    'x': types.SimpleNamespace(spec='x:loomweaver', serve=x_server, lookup=X_USER, profile='x_user.json',
                               page2='x_tweets_page2.json', pages=X_TWEETS, limited=x_limited, cursor=('pagination_token', NEXT),
                               doing={'lookup': 'looking up @loomweaver', 'page 2': "fetching page 2 of @loomweaver's tweets"}),
    'bluesky': types.SimpleNamespace(spec='bluesky:loomweaver', serve=bsky_server, lookup=PROFILE, profile='bluesky_profile.json',
                                     page2='bluesky_feed_page2.json', pages=FEED, limited=bsky_limited, cursor=('cursor', CURSOR),
                                     doing={'lookup': 'looking up loomweaver.bsky.social', 'page 2': "fetching page 2 of loomweaver.bsky.social's posts"}),
    'mastodon': types.SimpleNamespace(spec='mastodon:@loomweaver@example.social', serve=mastodon_server, lookup=LOOKUP, profile='mastodon_account.json',
                                      page2='mastodon_statuses_page2.json', pages=STATUSES, limited=masto_limited, cursor=('max_id', MAX_ID),
                                      doing={'lookup': 'looking up @loomweaver@example.social', 'page 2': "fetching page 2 of @loomweaver@example.social's statuses"}),
}

def serve_fault(server, src, where, fault):
    "Serve `src` with `fault` (a response, or a list served in turn) at its lookup or as its page 2; the options to fetch it with"
    r = REMOTE[src]
    r.serve(server, fault if where == 'page 2' else reply(fixture(r.page2)))
    if where == 'lookup': server.on('GET', r.lookup, fault)
    return dict(endpoints=Endpoints(x=server.url, bluesky=server.url, mastodon=server.url), x_token=SECRET)

FAULTS = {
    'HTTP 500, an HTML page': reply('<html><body><h1>500 Internal Server Error</h1></body></html>', 500, {'Content-Type': 'text/html'}),
    'HTTP 500, JSON': reply({'error': 'InternalServerError', 'message': 'Internal Server Error'}, 500),
    'HTTP 502, plain text': reply('Bad Gateway', 502),
    '200, an HTML page': reply('<!DOCTYPE html><html><body>We will be back soon</body></html>', 200, {'Content-Type': 'text/html; charset=utf-8'}),
    '200, broken JSON': reply(b'{"data": [{"id": "17', 200, {'Content-Type': 'application/json; charset=utf-8'}),
    'connection dropped': DROP,
}

@pytest.mark.parametrize('where', ['lookup', 'page 2'])
@pytest.mark.parametrize('fault', list(FAULTS))
@pytest.mark.parametrize('src', list(REMOTE))
def test_a_fault_is_one_clear_error_and_no_cache(request, server, tmp_path, src, fault, where):
    kw = serve_fault(server, src, where, FAULTS[fault])
    msg = fetch_fails(REMOTE[src].spec, tmp_path, REMOTE[src].doing[where], **kw)
    assert 'try again' in msg, msg
    if fault.startswith('HTTP'):
        assert f'answered {fault[5:8]} while' in msg or 'answered InternalServerError' in msg, msg
        assert msg.endswith(': try again later.'), msg
    assert no_cache(tmp_path)
    name, page2 = REMOTE[src].cursor # no page after the failing one was asked for
    fct.test_eq({r.param(name) for r in server.got(REMOTE[src].pages)}, {None, page2} if where == 'page 2' else set())

@pytest.mark.parametrize('where', ['lookup', 'page 2'])
@pytest.mark.parametrize('src', list(REMOTE))
def test_a_short_rate_limit_is_waited_out_and_retried(server, tmp_path, sleeps, src, where):
    r = REMOTE[src]
    kw = serve_fault(server, src, where, [lambda req: r.limited(time.time() + 1), reply(fixture(r.profile if where == 'lookup' else r.page2))])
    acc = fetch(r.spec, tmp_path, **kw)
    fct.test_eq(len(acc.posts), 5)
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 3.5, sleeps
    fct.test_eq((len(server.got(r.lookup)), len(server.got(r.pages))), (2, 2) if where == 'lookup' else (1, 3))
    fct.test_eq(cached(tmp_path, r.spec)[0], acc)

@pytest.mark.parametrize('where', ['lookup', 'page 2'])
@pytest.mark.parametrize('src', list(REMOTE))
def test_a_long_rate_limit_says_when_to_try_again(server, tmp_path, sleeps, src, where):
    kw = serve_fault(server, src, where, lambda req: REMOTE[src].limited(time.time() + 930))
    msg = fetch_fails(REMOTE[src].spec, tmp_path, 'is rate-limiting requests for about ', **kw)
    assert re.search(r'about 16 more minutes: try again after \d\d:\d\d', msg), msg
    fct.test_eq(sleeps, [])
    assert no_cache(tmp_path)

# ----------------------------------------------------------------------------- identity

@pytest.mark.parametrize('src,specs,identity', [
    ('x', ['x:LoomWeaver', 'x:@loomweaver', 'LOOMWEAVER'], 'x:loomweaver'),
    ('bluesky', ['bluesky:loomweaver', 'bluesky:loomweaver.bsky.social', 'bluesky:@LoomWeaver.bsky.social'], 'bluesky:did:plc:w3avrlqzk5n7xjm2hq4tcdye'),
    ('mastodon', ['mastodon:@LoomWeaver@Example.Social', 'mastodon:loomweaver@example.social'], 'mastodon:loomweaver@example.social')])
def test_identity_and_one_cache_folder_per_account(server, tmp_path, src, specs, identity):
    "The account knows who it is; the ways of writing one account share one cache folder, found without the network"
    fct.test_eq(len({cache_dir(tmp_path, parse_spec(s, SECRET)) for s in specs}), 1) # no server needed for this
    kw = serve_fault(server, src, 'page 2', reply(fixture(REMOTE[src].page2)))
    accs = [fetch(specs[0], tmp_path, **kw)]
    asked = len(server.got())
    accs += [fetch(s, tmp_path, **kw) for s in specs[1:]]
    fct.test_eq({a.identity for a in accs}, {identity})
    fct.test_eq(len(server.got()), asked) # the others came from the cache
    fct.test_eq(len(list(tmp_path.rglob(CACHE_NAME))), 1)
    fct.test_eq(cached(tmp_path, specs[-1])[0], accs[0])

# ----------------------------------------------------------------------------- a secret echoed back

ECHO = {'raw': lambda h: h, 'base64': b64, 'percent-encoded': lambda h: quote(h, safe='')}

def echo(status, encode, errors=False):
    "A response whose body repeats the request's Authorization header (`encode`d), as a careless proxy or API would"
    def route(req):
        said = f"Authorization: {encode(req.headers.get('Authorization', 'none'))} is not valid here"
        return reply({'errors': [{'title': 'Invalid Request', 'detail': said}]} if errors else {'title': 'Unauthorized', 'detail': said, 'error': 'AuthRequired', 'message': said}, status)
    return route

@pytest.mark.parametrize('form', list(ECHO))
@pytest.mark.parametrize('where,status,says', [('lookup', 401, 'X rejected the bearer token'), ('lookup', 403, 'X refused'), ('lookup', 500, 'X answered 500'),
                                               ('lookup', 200, 'X has no readable user @loomweaver ('), ('page 2', 200, "X did not return @loomweaver's tweets (")])
def test_x_token_echoed_back_is_not_shown(server, tmp_path, form, where, status, says):
    kw = serve_fault(server, 'x', where, echo(status, ECHO[form], errors=status == 200))
    msg = fetch_fails('x:loomweaver', tmp_path, says, **kw)
    assert all(r.headers['Authorization'] == f'Bearer {SECRET}' for r in server.got()) # it was there to echo
    if status == 200: assert 'is not valid here' in msg, msg # the server's words are shown, the token hidden
    assert no_cache(tmp_path)

@pytest.mark.parametrize('form', list(ECHO))
@pytest.mark.parametrize('src', ['bluesky', 'mastodon'])
def test_no_token_goes_to_bluesky_or_mastodon(server, tmp_path, monkeypatch, src, form):
    "With X_BEARER_TOKEN set, a Bluesky or Mastodon server that echoes what it was sent has no token to echo"
    monkeypatch.setenv('X_BEARER_TOKEN', SECRET)
    kw = serve_fault(server, src, 'lookup', echo(401, ECHO[form]))
    fetch_fails(REMOTE[src].spec, tmp_path, 'wants a login' if src == 'bluesky' else 'does not let logged-out visitors', **kw)
    assert not any(leaks(json.dumps([r.headers, r.query, r.body.decode('latin-1')])) for r in server.got())

# ----------------------------------------------------------------------------- update: only the posts newer than the cached ones

def update(spec, tmp_path, **kw):
    "`sources.fetch` with `update=True`: the cached account with the newer posts added"
    return sources.fetch(spec, tmp_path, opts=opts(**kw), update=True)

def test_mastodon_update_stops_at_the_newest_known(server, tmp_path):
    "Mastodon.py sends since_id with the first page only and follows the Link header back in time: the update stops at the known newest"
    p1, p2 = fixture('mastodon_statuses_page1.json'), fixture('mastodon_statuses_page2.json')
    server.on('GET', LOOKUP, reply(fixture('mastodon_account.json')))
    server.on('GET', STATUSES, lambda req: masto_page(server, p1[2:] + p2, p2[-1]['id'])) # cached: the oldest of page 1, and page 2
    old = fetch('mastodon:@loomweaver@example.social', tmp_path, endpoints=Endpoints(mastodon=server.url))
    fct.test_eq(len(old.posts), 3)
    n = len(server.got(STATUSES))
    server.on('GET', STATUSES, InTurn([masto_page(server, p1, MAX_ID), masto_page(server, p2, p2[-1]['id'])])) # a server that pages back past since_id
    acc = update('mastodon:@loomweaver@example.social', tmp_path, endpoints=Endpoints(mastodon=server.url))
    got = server.got(STATUSES)[n:]
    fct.test_eq((len(got), got[0].param('since_id')), (1, p1[2]['id'])) # one page: it reached the known newest
    fct.test_eq([p.id for p in acc.posts], [s['id'] for s in p1 + p2])
    assert_unique(acc)

def test_x_update_asks_for_newer_tweets_only(server, tmp_path):
    old = fetch('x:loomweaver', tmp_path, endpoints=x_server(server), x_token=TOKEN)
    n = len(server.got(X_TWEETS))
    acc = update('x:loomweaver', tmp_path, endpoints=x_server(server), x_token=TOKEN)
    fct.test_eq(server.got(X_TWEETS)[n].param('since_id'), max((p.id for p in old.posts), key=int))
    fct.test_eq(sorted(p.id for p in acc.posts), sorted(p.id for p in old.posts)) # the server's pages hold nothing new: nothing added twice
    assert_unique(acc)

def test_bluesky_update_stops_at_a_known_post(server, tmp_path):
    old = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server))
    n = len(server.got(FEED))
    acc = update('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server))
    fct.test_eq(len(server.got(FEED)) - n, 1) # page 1 holds known posts: no second page
    fct.test_eq([p.id for p in acc.posts], [p.id for p in old.posts])

def test_a_server_that_never_stops_paging(server, tmp_path, monkeypatch):
    "Bluesky and Mastodon servers that send new posts and a next page forever: paging stops at the stated maximum, the newest posts kept, with a note"
    import itertools, warnings
    monkeypatch.setattr(social, 'SERVER_MAX_POSTS', 250)
    ids = itertools.count(10**17)
    post = lambda i: {'post': {'uri': f'at://did:plc:x/app.bsky.feed.post/{i}', 'cid': 'c', 'author': {'did': 'did:plc:x', 'handle': 'loomweaver.bsky.social'},
                               'record': {'$type': 'app.bsky.feed.post', 'text': f'post number {i} goes on', 'createdAt': '2024-01-01T00:00:00Z'},
                               'indexedAt': '2024-01-01T00:00:00Z'}}
    server.on('GET', PROFILE, reply(fixture('bluesky_profile.json')))
    server.on('GET', FEED, lambda req: reply({'feed': [post(next(ids)) for _ in range(100)], 'cursor': f'c{next(ids)}'}))
    status = dict(fixture('mastodon_statuses_page1.json')[0])
    def statuses(req):
        page = [dict(status, id=str(next(ids)), reblog=None) for _ in range(40)]
        return reply(page, headers={'Link': f'<{server.url}{STATUSES}?limit=40&max_id={page[-1]["id"]}>; rel="next"'})
    server.on('GET', LOOKUP, reply(fixture('mastodon_account.json')))
    server.on('GET', STATUSES, statuses)
    for spec, ep, pages in [('bluesky:loomweaver', Endpoints(bluesky=server.url), 3), ('mastodon:@loomweaver@example.social', Endpoints(mastodon=server.url), 7)]:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter('always')
            acc = fetch(spec, tmp_path, endpoints=ep)
        fct.test_eq(len(acc.posts), 250)
        assert [str(w.message) for w in ws if 'keeps the newest 250 posts' in str(w.message) and f'read {pages} pages' in str(w.message)], [str(w.message) for w in ws]
    monkeypatch.setattr(social, 'SERVER_MAX_POSTS', 10**9); monkeypatch.setattr(social, 'SERVER_MAX_PAGES', 5) # one new post a page: the page limit
    server.on('GET', FEED, lambda req: reply({'feed': [post(next(ids))], 'cursor': f'c{next(ids)}'}))
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        acc = bluesky.fetch_bluesky('loomweaver.bsky.social', server.url)
    fct.test_eq(len(acc.posts), 5)
    assert any('read 5 pages' in str(w.message) for w in ws)

def test_a_server_post_longer_than_any_post_is_left_out(server, tmp_path):
    "A status of 200,000 characters (no platform allows it): left out with a note, as files and archives refuse such posts"
    import warnings
    page = fixture('mastodon_statuses_page1.json')
    page[0] = dict(page[0], content='<p>' + 'word ' * 40_000 + '</p>')
    server.on('GET', LOOKUP, reply(fixture('mastodon_account.json')))
    server.on('GET', STATUSES, InTurn([reply(page), reply([])]))
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        acc = fetch('mastodon:@loomweaver@example.social', tmp_path, endpoints=Endpoints(mastodon=server.url))
    fct.test_eq(len(acc.posts), len(page) - 1)
    assert any('1 post of @loomweaver@example.social held over 100,000 characters' in str(w.message) for w in ws), [str(w.message) for w in ws]

def test_bluesky_update_sees_a_new_repost_of_a_cached_post(server, tmp_path):
    "A repost has its post's uri: the update knows a post by its uri and whether it is a repost, so the author's new repost of a cached post is added, and paging still stops at the cache"
    old = fetch('bluesky:loomweaver', tmp_path, endpoints=bsky_server(server))
    p1 = fixture('bluesky_feed_page1.json')
    first = next(i for i in p1['feed'] if 'reason' not in i)
    server.on('GET', FEED, lambda r: reply({**p1, 'feed': [self_repost(first)] + p1['feed']}))
    n = len(server.got(FEED))
    acc = update('bluesky:loomweaver', tmp_path, endpoints=Endpoints(bluesky=server.url))
    fct.test_eq(len(server.got(FEED)) - n, 1)
    fct.test_eq(len(acc.posts), len(old.posts) + 1)
    fct.test_eq((acc.posts[0].id, acc.posts[0].repost), (first['post']['uri'], True))
    assert_unique(acc)
