"""The reference Bluesky stack (PLC, PDS and AppView, started by `bash tools/bsky/start.sh`) for the tests: its URLs,
fresh accounts on its PDS, logged-in clients, and a bounded wait for the AppView to index a post.

The session fixture `bsky` reads the JSON file that start.sh writes ($HUGGINGTWEETS_BSKY_STACK, default
/tmp/huggingtweets-bsky/stack.json). Without a running stack the tests that use it skip, saying how to start it;
with CI=true they fail instead: CI starts the stack, so a stack that is not there is an error there."""
import itertools, json, os, secrets, string, time
from dataclasses import dataclass, field
from pathlib import Path
import pytest

STACK = '/tmp/huggingtweets-bsky/stack.json'

def stack_file()->Path: return Path(os.environ.get('HUGGINGTWEETS_BSKY_STACK') or STACK)

@dataclass(frozen=True)
class BskyAccount:
    "An account made on the stack's PDS"
    handle:str # e.g. poster1abcd.test
    did:str # did:plc:...
    password:str = field(repr=False) # The account's own (main) password
    app_password:str = field(repr=False) # An app password made with com.atproto.server.createAppPassword

@dataclass
class BskyStack:
    "A running stack: its URLs, and what the tests do with it"
    pds:str # The PDS's URL (accounts, posting)
    appview:str # The AppView's URL (reading, as public.api.bsky.app)
    plc:str # The PLC directory's URL (DID documents)
    run:str = field(default_factory=lambda: ''.join(secrets.choice(string.ascii_lowercase) for _ in range(4))) # Makes this session's handles unique on a stack that outlives it
    _n:itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)
    _clients:dict = field(default_factory=dict, repr=False)

    def account(self, name:str # Letters and digits: the start of the handle
               )->BskyAccount:
        "A new account on the PDS (createAccount, no invite), with an app password"
        from atproto import Client
        assert name.isascii() and name.isalnum(), name
        handle = f'{name.lower()[:10]}{next(self._n)}{self.run}.test'
        password = secrets.token_urlsafe(16)
        from atproto_client.exceptions import RateLimitExceededError
        c = Client(base_url=self.pds)
        try: r = c.com.atproto.server.create_account({'handle': handle, 'email': f'{handle}@example.com', 'password': password})
        except RateLimitExceededError: pytest.fail(f'The PDS at {self.pds} limits new accounts (its rate limits are on: 100 every 5 minutes): wait, or restart the stack.', pytrace=False)
        acc = BskyAccount(handle, r.did, password, '')
        app = self.client(acc).com.atproto.server.create_app_password({'name': 'huggingtweets tests'}).password
        return BskyAccount(handle, r.did, password, app)

    def client(self, account:BskyAccount # An account of `account()`
              ):
        "An `atproto.Client` on the PDS, logged in as `account` with its main password (one session an account: logins are rate-limited)"
        from atproto import Client, models
        if account.did not in self._clients:
            c = Client(base_url=self.pds)
            c.login(account.handle, account.password, fetch_bsky_profile=False) # the AppView may not know a new account for seconds...
            c.me = models.AppBskyActorDefs.ProfileViewDetailed(did=account.did, handle=account.handle) # ...but send_post needs `me`
            self._clients[account.did] = c
        return self._clients[account.did]

    def wait(self, fn, what:str, # `fn()`, retried until it stops raising; what it waits for, for the message
             timeout:float=30, # Seconds at most
            ):
        "`fn()`'s result once it returns one (the AppView answers 400 for what it has not indexed yet), or an `AssertionError` after `timeout`"
        end = time.monotonic() + timeout
        while True:
            try: return fn()
            except Exception as e:
                if time.monotonic() > end: raise AssertionError(f'Waited {timeout} s for {what}: {type(e).__name__}: {e}') from None
            time.sleep(0.2)

    def wait_visible(self, *uris:str, # Post URIs (at://did/app.bsky.feed.post/...)
                     timeout:float=30, # Seconds at most
                    ):
        "Wait until the AppView shows every post of `uris` (it indexes the PDS's events in order: waiting for an account's last post waits for all its earlier records)"
        import httpx
        def shown():
            r = httpx.get(f'{self.appview}/xrpc/app.bsky.feed.getPosts', params={'uris': list(uris)}, timeout=10)
            r.raise_for_status()
            n = len(r.json().get('posts') or [])
            if n < len(set(uris)): raise LookupError(f'{n} of {len(set(uris))} shown')
        self.wait(shown, f'the AppView at {self.appview} to show {len(set(uris))} posts', timeout)

def _unavailable(why:str):
    msg = f"the reference Bluesky stack is not running ({why}): start it with `bash tools/bsky/start.sh`"
    if os.environ.get('CI') == 'true': pytest.fail(f'{msg}; CI must run these tests, not skip them', pytrace=False)
    pytest.skip(msg)

def load_stack()->BskyStack:
    "The running stack, or skip (fail under CI=true) saying how to start it"
    import httpx
    p = stack_file()
    try: d = json.loads(p.read_text())
    except FileNotFoundError: _unavailable(f'no {p}')
    except (OSError, ValueError) as e: _unavailable(f'{p} is unreadable: {e}')
    if not (isinstance(d, dict) and all(isinstance(d.get(k), str) for k in ('pds', 'appview', 'plc'))):
        _unavailable(f'{p} is not the JSON that start.sh writes, with the pds, appview and plc URLs')
    s = BskyStack(d['pds'], d['appview'], d['plc'])
    for url in (f'{s.pds}/xrpc/_health', f'{s.appview}/xrpc/_health', f'{s.plc}/_health'):
        try: httpx.get(url, timeout=5).raise_for_status()
        except httpx.HTTPError as e: _unavailable(f'{url} does not answer: {e}')
    return s

@pytest.fixture(scope='session')
def bsky()->BskyStack:
    "The running reference Bluesky stack (see `BskyStack`); skips without one, fails without one under CI=true"
    return load_stack()
