"Remote sources end to end, through `sources.fetch`, against a local replay server (no network)"
import datetime as dt, json, sys, time, types
import pytest
import fastcore.test as fct
from fakeserver import DROP, FakeServer, InTurn, fixture, reply
from huggingtweets import social
from huggingtweets.sources import Endpoints, Post, UserError, cache_path, fetch, load_cache

TOKEN = 'AAAAAAAAAAAAAAAAAAAAAsecret-test-token%3Dxyz'

def fetch_fails(spec, tmp_path, contains, **kw):
    "Fetch `spec`, expecting a UserError that contains `contains`; return its message"
    with pytest.raises(UserError) as e: fetch(spec, data_dir=tmp_path, progress=False, **kw)
    msg = str(e.value)
    assert contains in msg, msg
    return msg

def no_cache(tmp_path): return not any(tmp_path.rglob('posts.jsonl'))

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
    acc = fetch('x:LoomWeaver', data_dir=tmp_path, endpoints=x_server(server), x_token=TOKEN, progress=False)
    fct.test_eq((acc.handle, acc.source, acc.user_name), ('loomweaver', 'x', 'Loom Weaver'))
    fct.test_eq(acc.avatar, 'https://pbs.twimg.com/profile_images/1522222222222222222/Qw3rTyUi_400x400.jpg')
    fct.test_eq([p.repost for p in acc.posts], [False, True, False, False, False]) # quoted and replied_to are not reposts
    fct.test_eq(acc.posts[0], Post('Warped the new linen today &amp; it only took four hours. The loom forgives nothing.', False,
                                   '1700000000000000003', '2023-09-08T18:02:11.000Z'))
    fct.test_eq(load_cache(cache_path(tmp_path, 'loomweaver')), acc)
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
    acc = social.fetch_x('loomweaver', TOKEN, server.url)
    fct.test_eq(len(acc.posts), social.X_MAX_TWEETS)
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

def test_x_short_rate_limit_is_waited_out(server, tmp_path):
    limited = reply(fixture('x_too_many_requests.json'), 429, {'x-rate-limit-reset': int(time.time()) + 1, 'x-rate-limit-remaining': 0})
    x_server(server, [limited, reply(fixture('x_tweets_page2.json'))])
    t = time.time()
    acc = fetch('x:loomweaver', data_dir=tmp_path, endpoints=Endpoints(x=server.url), x_token=TOKEN, progress=False)
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(X_TWEETS)), 3)
    assert 0.5 < time.time() - t < 10

def test_x_long_rate_limit_says_when(server, tmp_path):
    limited = reply(fixture('x_too_many_requests.json'), 429, {'x-rate-limit-reset': int(time.time()) + 900})
    x_server(server, limited)
    msg = fetch_fails('x:loomweaver', tmp_path, 'X is rate-limiting requests for about 16 more minutes: try again after',
                      endpoints=Endpoints(x=server.url), x_token=TOKEN)
    assert TOKEN not in msg and no_cache(tmp_path)

def test_x_timeout(server):
    x_server(server, lambda req: (time.sleep(1), reply(fixture('x_tweets_page2.json')))[1])
    with pytest.raises(UserError, match=r"failed while fetching page 2 of @loomweaver's tweets \(it timed out\)"):
        social.fetch_x('loomweaver', TOKEN, server.url, timeout=0.3)

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
    fct.test_eq([social.snscrape_to_post(d) for d in items()], want)
    fct.test_eq([social.snscrape_to_post(as_objects(d)) for d in items()], want)

def test_snscrape_fetch_with_a_fake_module(monkeypatch, tmp_path):
    got = fake_snscrape(monkeypatch, [as_objects(d) for d in items()])
    acc = fetch('snscrape:loomweaver', data_dir=tmp_path, progress=False)
    fct.test_eq(got, ['loomweaver'])
    fct.test_eq((acc.source, acc.user_name, len(acc.posts), [p.repost for p in acc.posts]), ('snscrape', 'Loom Weaver', 3, [False, True, False]))
    fct.test_eq(acc.avatar, 'https://pbs.twimg.com/profile_images/1522222222222222222/Qw3rTyUi_400x400.jpg')
    fct.test_eq(load_cache(cache_path(tmp_path, 'loomweaver')), acc)

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
    acc = fetch('bluesky:loomweaver', data_dir=tmp_path, endpoints=bsky_server(server), progress=False)
    fct.test_eq((acc.handle, acc.source, acc.user_name), ('loomweaver.bsky.social', 'bluesky', 'Loom Weaver'))
    assert acc.avatar.startswith('https://cdn.bsky.app/img/avatar/plain/did:plc:w3avrlqzk5n7xjm2hq4tcdye/')
    fct.test_eq([p.repost for p in acc.posts], [False, True, False, False, False])
    fct.test_eq(acc.posts[1].text, 'Open studio on Saturday, bring a project')
    fct.test_eq(acc.posts[3], Post('Cut the first scarf off the loom.\nFringe twisting is a meditation.', False,
                                   'at://did:plc:w3avrlqzk5n7xjm2hq4tcdye/app.bsky.feed.post/3kp7mnopqrs2c', '2024-02-20T15:45:10.000Z'))
    fct.test_eq(load_cache(cache_path(tmp_path, 'loomweaver.bsky.social')), acc)
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
    acc = social.fetch_bluesky('loomweaver.bsky.social', server.url)
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(FEED)), 3) # page 2 read twice: as models, then as JSON

def test_bluesky_unknown_actor(server, tmp_path):
    server.on('GET', PROFILE, reply(fixture('bluesky_profile_not_found.json'), 400))
    fetch_fails('bluesky:nobody', tmp_path, 'Bluesky has no account nobody.bsky.social (InvalidRequest: Profile not found): check the handle.',
                endpoints=Endpoints(bluesky=server.url))
    assert no_cache(tmp_path)

def test_bluesky_short_rate_limit_is_waited_out(server, tmp_path):
    limited = reply({'error': 'RateLimitExceeded', 'message': 'Rate Limit Exceeded'}, 429,
                    {'ratelimit-limit': 3000, 'ratelimit-remaining': 0, 'ratelimit-reset': int(time.time()) + 1, 'ratelimit-policy': '3000;w=300'})
    acc = fetch('bluesky:loomweaver', data_dir=tmp_path, endpoints=bsky_server(server, [limited, reply(fixture('bluesky_feed_page2.json'))]), progress=False)
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(FEED)), 3)

def test_bluesky_long_rate_limit_says_when(server, tmp_path):
    limited = reply({'error': 'RateLimitExceeded', 'message': 'Rate Limit Exceeded'}, 429, {'ratelimit-reset': int(time.time()) + 3600})
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
        social.fetch_bluesky('loomweaver.bsky.social', server.url, timeout=0.3)


def test_bluesky_progress_bar(server, capsys):
    bsky_server(server)
    social.fetch_bluesky('loomweaver.bsky.social', server.url, progress=True)
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
    acc = fetch('mastodon:@loomweaver@example.social', data_dir=tmp_path, endpoints=mastodon_server(server), progress=False)
    fct.test_eq((acc.handle, acc.source, acc.user_name), ('loomweaver@example.social', 'mastodon', 'Loom Weaver 🧶'))
    fct.test_eq(acc.avatar, fixture('mastodon_account.json')['avatar'])
    fct.test_eq([p.repost for p in acc.posts], [False, True, False, False, False])
    fct.test_eq([p.text for p in acc.posts[:3]], [
        'Threading heddles for a 600-end warp.\nSend snacks & patience.\n\nDay two of "just one more row".',
        'Indigo vat is ready, bring your skeins before Friday #dyeing',
        '@dyehouse_dan saving a spot for the wool blend, see https://example.org/wool-blend'])
    fct.test_eq((acc.posts[0].id, acc.posts[0].date), ('112010000000000003', '2024-03-04T19:20:00+00:00'))
    fct.test_eq(load_cache(cache_path(tmp_path, 'loomweaver@example.social')), acc)
    fct.test_eq(server.got(LOOKUP)[0].param('acct'), 'loomweaver@example.social')
    fct.test_eq([(r.param('limit'), r.param('max_id')) for r in server.got(STATUSES)], [('40', None), ('40', MAX_ID)])
    assert not any('Authorization' in r.headers for r in server.got()) # no login

def test_mastodon_default_base_url_is_the_instance(monkeypatch):
    seen = {}
    def init(self, *args, **kw): seen.update(kw); raise RuntimeError('stop here')
    import mastodon
    monkeypatch.setattr(mastodon.Mastodon, '__init__', init)
    with pytest.raises(RuntimeError): social.fetch_mastodon('@someone@mastodon.example')
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
        social.fetch_mastodon('loomweaver@example.social', server.url, timeout=0.3)

def test_mastodon_unknown_account(server, tmp_path):
    server.on('GET', LOOKUP, reply(fixture('mastodon_not_found.json'), 404))
    fetch_fails('mastodon:@nobody@example.social', tmp_path, 'has no account @nobody@example.social (404 Not Found)',
                endpoints=Endpoints(mastodon=server.url))
    assert no_cache(tmp_path)

def test_mastodon_login_required(server, tmp_path):
    server.on('GET', LOOKUP, reply({'error': 'This API requires an authenticated user'}, 401))
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'does not let logged-out visitors read', endpoints=Endpoints(mastodon=server.url))

def iso(t): return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')

def test_mastodon_short_rate_limit_is_waited_out(server, tmp_path):
    limited = lambda req: reply({'error': 'Too many requests'}, 429, {'X-RateLimit-Limit': 300, 'X-RateLimit-Remaining': 0, 'X-RateLimit-Reset': iso(time.time() + 1)})
    acc = fetch('mastodon:@loomweaver@example.social', data_dir=tmp_path, progress=False,
                endpoints=mastodon_server(server, [limited, reply(fixture('mastodon_statuses_page2.json'))]))
    fct.test_eq(len(acc.posts), 5)
    fct.test_eq(len(server.got(STATUSES)), 3)

def test_mastodon_long_rate_limit_says_when(server, tmp_path):
    limited = lambda req: reply({'error': 'Too many requests'}, 429, {'X-RateLimit-Remaining': 0, 'X-RateLimit-Reset': iso(time.time() + 300)})
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'is rate-limiting requests for about 6 more minutes: try again after',
                endpoints=mastodon_server(server, limited))
    assert no_cache(tmp_path)

def test_mastodon_connection_dropped_mid_paging(server, tmp_path):
    msg = fetch_fails('mastodon:@loomweaver@example.social', tmp_path, "failed while fetching page 2 of @loomweaver@example.social's statuses",
                      endpoints=mastodon_server(server, DROP))
    assert 'try again' in msg and no_cache(tmp_path)

def test_a_failed_refresh_keeps_the_old_cache(server, tmp_path):
    eps = mastodon_server(server)
    acc = fetch('mastodon:@loomweaver@example.social', data_dir=tmp_path, endpoints=eps, progress=False)
    server.on('GET', STATUSES, mastodon_statuses(server, DROP))
    fetch_fails('mastodon:@loomweaver@example.social', tmp_path, 'failed while', endpoints=eps, refresh=True)
    fct.test_eq(load_cache(cache_path(tmp_path, 'loomweaver@example.social')), acc)

# ----------------------------------------------------------------------------- all remote sources

@pytest.mark.parametrize('spec,service,what', [('x:loomweaver', 'X', 'looking up @loomweaver'),
                                               ('bluesky:loomweaver', 'Bluesky', 'looking up loomweaver.bsky.social'),
                                               ('mastodon:@loomweaver@example.social', 'Mastodon', 'looking up @loomweaver@example.social')])
def test_server_down(tmp_path, spec, service, what):
    with FakeServer() as s: url = s.url # nothing listens there any more
    msg = fetch_fails(spec, tmp_path, f"The request to {service} ({url[7:]}) failed while {what} (the connection was refused): check your network and try again.",
                      endpoints=Endpoints(x=url, bluesky=url, mastodon=url), x_token=TOKEN)
    assert TOKEN not in msg and no_cache(tmp_path)
