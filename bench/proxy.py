"""The proxy base model: no pretrained GPT-2 can be downloaded, so the benchmark pretrains one.

A GPT-2 with the real GPT-2 tokenizer, trained from a seeded initialisation on English tweets of
other accounts (../shared/data/pretrain/tweets_en.txt.gz) for a fixed number of steps, so that the
base is the same whatever else loads the machine. One loop, nanoGPT-style: the tweets are shuffled
with the seed, joined and wrapped with `<|endoftext|>`, cut into `n_positions` blocks; AdamW (0.9,
0.95), weight decay 0.1, gradient clipping at 1, linear warm-up then cosine decay to a tenth over the
steps; bf16 autocast on a GPU. The model is saved as a plain GPT-2 (fp32, `gelu_new`) that both
recipes load.
"""
import gzip, hashlib, json, math, os, random, time
from pathlib import Path


def read_tweets(path, limit=None, seed=0):
    "Up to `limit` tweets of the gzipped text file (one a line), shuffled with `seed`"
    out = []
    with gzip.open(path, 'rt', encoding='utf-8', errors='replace') as f:
        for l in f:
            l = l.strip()
            if l: out.append(l)
            if limit and len(out) >= limit: break
    random.Random(seed).shuffle(out)
    return out


def token_ids(tok, tweets, cache_dir=None, key=''):
    "The tweets tokenized as one stream wrapped by `<|endoftext|>`, as an int32 array (cached on disk)"
    import numpy as np
    from huggingtweets.train import post_ids
    cache = None
    if cache_dir:
        h = hashlib.sha1((key + str(len(tweets)) + tweets[0] + tweets[-1]).encode()).hexdigest()[:16]
        cache = Path(cache_dir)/f'pretrain-ids-{h}.npy'
        if cache.exists(): return np.load(cache)
    chunk = 20_000 # post_ids of 700k tweets at once would hold ~20M Python ints
    ids = np.concatenate([np.asarray(post_ids(tok, tweets[i:i + chunk])[0 if i == 0 else 1:], dtype=np.int32)
                          for i in range(0, len(tweets), chunk)]) # each chunk but the first without its leading <|endoftext|>
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix('.tmp.npy')
        np.save(tmp, ids)
        os.replace(tmp, cache)
    return ids


def _set_gelu(model, name):
    "Switch GPT-2's MLP activation (`gelu_new` and `gelu_pytorch_tanh` are the same function, the latter fused)"
    from transformers.activations import ACT2FN
    model.config.activation_function = name
    for m in model.modules():
        if hasattr(m, 'act') and hasattr(m, 'c_fc'): m.act = ACT2FN[name]


def pretrain(tokenizer:str, data:str, out:str, size:dict, # GPT2Config fields: n_layer, n_embd, n_head, n_positions
             steps:int=2000, batch:int=16, lr:float=6e-4, warmup:int=50,
             seed:int=0, device:str='cuda', max_tweets:int|None=None, cache_dir=None, log=print, size_name:str='')->dict:
    "Pretrain a GPT-2 of `size` for exactly `steps` steps and save it with the tokenizer to `out`"
    if steps < 1: raise ValueError(f'steps must be at least 1, not {steps}')
    import numpy as np, torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel
    t_prep = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(tokenizer)
    tweets = read_tweets(data, max_tweets, seed)
    ids = token_ids(tok, tweets, cache_dir, key=f'{data}:{os.path.getsize(data)}:{max_tweets}:{seed}:{len(tok)}')
    block = size['n_positions']
    n_blocks = len(ids) // block
    blocks = torch.from_numpy(ids[:n_blocks * block].astype(np.int64)).view(n_blocks, block)
    prep = time.perf_counter() - t_prep
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tok), bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, **size)
    model = GPT2LMHeadModel(cfg).to(device)
    model.loss_type = 'ForCausalLM' # said outright, as the library does: transformers warns when it has to guess
    cuda = device == 'cuda'
    if cuda: _set_gelu(model, 'gelu_pytorch_tanh')
    amp = cuda and torch.cuda.is_bf16_supported()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.1), dict(params=no_decay, weight_decay=0.0)],
                            lr=lr, betas=(0.9, 0.95), fused=cuda)
    gen = torch.Generator().manual_seed(seed)
    order, pos = torch.randperm(n_blocks, generator=gen), 0
    model.train()
    losses, step = [], 0
    if cuda: torch.cuda.synchronize()
    t0 = time.perf_counter()
    while step < steps:
        f = min(1.0, (step + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups: g['lr'] = lr * f
        if pos + batch > n_blocks: order, pos = torch.randperm(n_blocks, generator=gen), 0
        x = blocks[order[pos:pos + batch]].to(device, non_blocking=True)
        pos += batch
        with torch.autocast('cuda', dtype=torch.bfloat16, enabled=amp):
            loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item()) # syncs: the clock sees finished steps
        step += 1
        if step % 100 == 0: log(f'  pretrain step {step}, {time.perf_counter() - t0:.0f} s, loss {sum(losses[-100:]) / len(losses[-100:]):.3f}')
    secs = time.perf_counter() - t0
    _set_gelu(model, 'gelu_new')
    model.to('cpu').save_pretrained(out)
    tok.save_pretrained(out)
    tail = losses[-max(1, min(50, len(losses) // 5)):]
    res = dict(size_name=size_name, size=size, seed=seed, budget=dict(steps=steps), steps=step,
               tokens=step * batch * block, seconds=round(secs, 3), tokens_per_s=round(step * batch * block / secs, 1),
               batch=batch, block=block, lr=lr, tweets=len(tweets), corpus_tokens=int(len(ids)),
               final_train_loss=round(sum(tail) / len(tail), 4) if tail else None,
               prep_seconds=round(prep, 3), params=sum(p.numel() for p in model.parameters()), model_dir=str(out))
    (Path(out)/'pretrain.json').write_text(json.dumps(res, indent=2))
    return res
