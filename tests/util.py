"Helpers shared by the tests: archives in the real X layout, a tiny GPT-2, the path of ../shared."
import json, zipfile
from pathlib import Path
import pytest
from huggingtweets.core import EOT

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


def readable_tiny_model(out:Path, texts:list[str], vocab_size:int=512, seed:int=0,
                        post_end:float=3.0, # Added to the end-of-text logit: posts end after 10 to 30 tokens, not at max_length (quick tests)
                       )->Path:
    """A tiny random GPT-2 like `train.make_tiny_model`'s, but whose byte-level BPE knows only printable ASCII, merged as in `texts`:
    with the full byte alphabet a random model samples half characters, shown as '�'; with this one whatever it writes decodes cleanly.
    And it ends its posts early, as a trained model does, where a random one writes to `max_length`: generating stays quick"""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    plain = [''.join(map(chr, range(32, 127)))] + [''.join(c for c in t if ' ' <= c <= '~') for t in texts] # every printable ASCII character
    bpe.train_from_iterator(plain, trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=1, show_progress=False, special_tokens=[EOT], initial_alphabet=[]))
    tok = GPT2TokenizerFast(tokenizer_object=bpe, bos_token=EOT, eos_token=EOT, unk_token=EOT)
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=64, n_layer=2, n_head=2, bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    model = GPT2LMHeadModel(cfg)
    with torch.no_grad(): # the final norm's first feature is a constant 1 that only the end-of-text token reads: its logit gets `post_end` added
        model.transformer.ln_f.weight[0], model.transformer.ln_f.bias[0] = 0.0, 1.0
        model.transformer.wte.weight[:, 0] = 0.0
        model.transformer.wte.weight[tok.eos_token_id, 0] = post_end
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return Path(out)
