"Helpers shared by the tests: archives in the real X layout, a tiny GPT-2, the path of ../shared."
import json, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/'shared'

def shared(*parts):
    "A path under ../shared, or skip the test when it is absent"
    p = SHARED.joinpath(*parts)
    if not p.exists(): pytest.skip(f'{p} is not here (../shared is absent)')
    return p

def ytd(name, items, part=0):
    "An X archive data file: `window.YTD.<name>.partN = [...]`"
    return f'window.YTD.{name}.part{part} = ' + json.dumps(items, indent=2, ensure_ascii=False)

def tweet(i, text, **kw):
    return {'tweet': {'id_str': str(i), 'full_text': text, 'retweeted': False, 'created_at': 'Wed Nov 02 09:20:26 +0000 2022', **kw}}

def make_archive(dest:Path, tweets, handle='jack', name='Jack', parts=1, zipped=True, tweet_file='tweets', top=''):
    "Write an X archive with `tweets` (a list of texts or tweet dicts) split over `parts` files"
    items = [t if isinstance(t, dict) else tweet(i, t) for i, t in enumerate(tweets)]
    files = {f'{top}data/account.js': ytd('account', [{'account': {'username': handle, 'accountDisplayName': name, 'accountId': '1'}}]),
             f'{top}data/profile.js': ytd('profile', [{'profile': {'avatarMediaUrl': 'https://pbs.twimg.com/profile_images/1/a.jpg'}}])}
    chunks = [items[i::parts] for i in range(parts)]
    for k, ch in enumerate(chunks):
        fn = f'{tweet_file}.js' if k == 0 else f'{tweet_file}-part{k}.js'
        files[f'{top}data/{fn}'] = ytd(tweet_file, ch, k)
    dest = Path(dest)
    if zipped:
        with zipfile.ZipFile(dest, 'w') as z:
            for n, t in files.items(): z.writestr(n, t)
    else:
        for n, t in files.items():
            (dest/n).parent.mkdir(parents=True, exist_ok=True)
            (dest/n).write_text(t, encoding='utf-8')
    return dest

def sample_tweets(n, handle='jack'):
    "`n` varied made-up tweets, a few of them reposts, links and short ones"
    topics = ['coffee', 'GPUs', 'the weather', 'my cat', 'open source', 'music', 'running', 'books']
    out = []
    for i in range(n):
        t = f'Thinking about {topics[i % len(topics)]} again today, day {i} of {handle} writing things down'
        if i % 10 == 3: t = f'RT @friend{i}: {t}'
        elif i % 10 == 5: t = f'#ff @friend{i}'
        elif i % 10 == 7: t += ' https://t.co/abc' + str(i)
        out.append(t)
    return out


def wandb_env(mp, tmp):
    "W&B's own folders in `tmp`, no login, no mode from outside (`mp`: a pytest MonkeyPatch)"
    for k in ('WANDB_API_KEY', 'WANDB_MODE', 'WANDB_DISABLED', 'WANDB_BASE_URL', 'WANDB_IDENTITY_TOKEN_FILE', 'WANDB_DIR'):
        mp.delenv(k, raising=False)
    for k, d in dict(WANDB_DATA_DIR='wb-data', WANDB_CACHE_DIR='wb-cache', WANDB_CONFIG_DIR='wb-config', WANDB_ARTIFACT_DIR='wb-artifacts').items():
        mp.setenv(k, str(tmp/d))
    mp.setenv('HOME', str(tmp/'home'))
    mp.setenv('NETRC', str(tmp/'home'/'.netrc'))
