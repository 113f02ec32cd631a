"""The huggingtweets benchmark: the original's training recipe against huggingtweets' default path.

  python bench/bench.py [--device cuda|cpu] [--shared ../shared] [--out bench/out] [--seeds 3]
                        [--pretrain-steps 2000] [--part all|base|compare|throughput] [--smoke] [--write-results]

In one run, on one device, on the same data, tokenizer and base weights:
1. a proxy base model (no pretrained GPT-2 can be downloaded): GPT-2 small with the real GPT-2
   tokenizer, pretrained on other accounts' tweets for a fixed number of steps (proxy.py);
2. the 2016 tweets of trump_tweets.jsonl, cleaned by the rules, 10% held out by a stable hash, fine-tuned
   from it, with each of `--seeds` seeds, three ways, each in its own process (job.py): the original recipe
   (../shared/bench/upstream_recipe.py, run as it lies), huggingtweets' default path (`finetune` with the
   default `TrainConfig`), and huggingtweets with the recipe's masking of the end-of-text labels
   (`TrainConfig(mask_eot=True)`);
3. for each run: the whole train step's wall time after the imports, the train loop's time and tokens/s,
   peak GPU memory, the held-out loss over the text tokens (the judge: targets that are not <|endoftext|>,
   which all three learn) and over all tokens, the share of generated tweets that end with <|endoftext|>
   (where a tweet ends) and that copy a training tweet (memo.py); the mean and spread of each across seeds;
4. throughput of GPT-2 medium, large and xl with random weights on the default path, and the latency
   of the 10-prediction generation step.
It prints a table and a sentence that decides whether the product should mask <|endoftext|>, writes
OUT/results.json, and with --write-results rewrites its section of bench/RESULTS.md. `--device cpu --smoke`
runs the same steps with tiny sizes in a minute or two. See bench/README.md.
"""
import argparse, dataclasses, datetime, json, os, platform, random, shlex, shutil, statistics, subprocess, sys, time, warnings
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)] # job.py, proxy.py, memo.py; and this checkout's huggingtweets, installed or not

GPT2_SIZES = dict(small=dict(n_layer=12, n_embd=768, n_head=12, n_positions=1024),
                  medium=dict(n_layer=24, n_embd=1024, n_head=16, n_positions=1024),
                  large=dict(n_layer=36, n_embd=1280, n_head=20, n_positions=1024),
                  xl=dict(n_layer=48, n_embd=1600, n_head=25, n_positions=1024),
                  tiny=dict(n_layer=2, n_embd=64, n_head=2, n_positions=1024))

# What each mode runs. The recipe's block is fixed at 1024, so even the smoke model has 1024 positions.
# 2,000 pretraining steps of 16 x 1024 tokens are 32.8M tokens: about 110 s at the 294k tokens/s that the hand-written
# probe of ../shared/bench/README.md ran GPT-2 small at on an H100, up to about 3 minutes for this uncompiled loop.
FULL = dict(base_size='small', pretrain_steps=2000, pretrain_batch=16, pretrain_lr=6e-4, pretrain_warmup=50,
            pretrain_tweets=None, tweets=None, steps=-1, seeds=3, samples=100, gen_max_length=160, latency_repeats=3,
            sizes='medium,large,xl', throughput_steps=100)
SMOKE = dict(base_size='tiny', pretrain_steps=6, pretrain_batch=1, pretrain_lr=1e-3, pretrain_warmup=5,
             pretrain_tweets=3000, tweets=200, steps=4, seeds=2, samples=10, gen_max_length=40, latency_repeats=1,
             sizes='tiny', throughput_steps=2)
SIDES = dict(recipe='recipe', huggingtweets='huggingtweets', huggingtweets_masked='huggingtweets, masked', trainer_bf16='Trainer, bf16') # key: label
SAME_OBJECTIVE = dict(huggingtweets_masked='recipe', huggingtweets='trainer_bf16') # the loss of each is judged against a side that learns the same targets
PROMPT_MEMO = '' # memorization samples start from <|endoftext|> alone: the model's own idea of a tweet
PROMPT_LATENCY = 'My dream is' # the original's default prompt, for the 10-prediction step
YEAR = '2016'
VALID_FRAC = 0.1
LOSS_TOLERANCE = 0.01 # the quality target: huggingtweets' mean text-token loss at most this above the recipe's
ENDS_MARGIN = 0.1 # a difference in the share of generations that end that counts for the mask_eot decision
SUMMARY_FIGURES = ('step_seconds', 'loop_seconds', 'process_seconds', 'eval_seconds', 'tokens', 'steps', 'tokens_per_s',
                   'peak_gpu_mem_bytes', 'peak_gpu_mem_train_bytes', 'peak_gpu_reserved_bytes', 'train_loss', 'valid_loss', 'valid_loss_check', 'valid_loss_text',
                   'ends_share', 'memorized_share', 'verbatim_share', 'span12_share')


def log(*a): print(*a, file=sys.stderr, flush=True)


class Skip(Exception): pass


def shared_paths(shared:Path)->dict:
    p = dict(recipe=shared/'bench'/'upstream_recipe.py', tokenizer=shared/'gpt2-tokenizer',
             account=shared/'data'/'accounts'/'trump_tweets.jsonl', pretrain=shared/'data'/'pretrain'/'tweets_en.txt.gz')
    missing = [str(v) for v in p.values() if not v.exists()]
    if missing: raise Skip(f"the benchmark needs ../shared (data, tokenizer, the original's recipe); missing: {', '.join(missing)}")
    return p


def make_data(account:Path, out:Path, n_tweets:int|None, seeds:list[int])->dict:
    """The 2016 tweets, cleaned by the rules, 10% held out by `dataset.held_out` (a stable hash of each post, so the
    same for every seed): a dataset folder per seed (its own shuffled epochs) for huggingtweets, and for the recipe
    the training posts (`train.tweets`) and the held-out ones (`valid.tweets`), one a line"""
    from huggingtweets.files import read_file
    from huggingtweets.clean import curate
    from huggingtweets.dataset import make_dataset, save_dataset, held_out
    acc = read_file(account)
    acc = dataclasses.replace(acc, posts=[p for p in acc.posts if p.date.startswith(YEAR)])
    cur = curate(acc)
    if n_tweets and n_tweets < len(cur.texts): cur = dataclasses.replace(cur, texts=random.Random(seeds[0]).sample(cur.texts, n_tweets))
    folders = {}
    for s in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore') # the smoke subset is under the 40,000-character warning
            ds = make_dataset([cur], epochs=4, seed=s, valid_frac=VALID_FRAC)
        folders[s] = str(save_dataset(ds, out/f'seed-{s}'))
    train = [t for t in cur.texts if not held_out(t, VALID_FRAC)] # what make_dataset trains on, each post once
    valid = ds.valid_texts
    a = ds.info.accounts[0]
    assert len(train) == a.train_posts and len(valid) == a.valid_posts, (len(train), a.train_posts, len(valid), a.valid_posts)
    (out/'train.tweets').write_text(''.join(t + '\n' for t in train), encoding='utf-8')
    (out/'valid.tweets').write_text(''.join(t + '\n' for t in valid), encoding='utf-8')
    return dict(account=str(account), year=YEAR, downloaded=cur.stats.downloaded, kept=cur.stats.kept, used=len(cur.texts), train_tweets=len(train),
                valid_tweets=len(valid), valid_frac=VALID_FRAC, split='dataset.held_out: a stable hash of each post',
                datasets={str(s): f for s, f in folders.items()}, dir=str(out))


def run_job(spec:dict, jobs:Path, env:dict)->dict:
    "Run job.py on `spec` in a fresh process; its output goes to jobs/LABEL.log"
    label = spec['label']
    spec = dict(spec, result=str(jobs/f'{label}.result.json'))
    (jobs/f'{label}.spec.json').write_text(json.dumps(spec, indent=2))
    logf = jobs/f'{label}.log'
    t = time.perf_counter()
    with open(logf, 'w') as f:
        rc = subprocess.run([sys.executable, str(BENCH/'job.py'), str(jobs/f'{label}.spec.json')],
                            stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT).returncode
    wall = time.perf_counter() - t
    if rc != 0:
        tail = logf.read_text(errors='replace')[-3000:]
        raise RuntimeError(f'{label} failed (exit {rc}); the end of {logf}:\n{tail}')
    res = json.loads(Path(spec['result']).read_text())
    res['process_seconds'] = wall # with the interpreter start and the imports: for reference only
    return res


def job_env(device:str)->dict:
    env = dict(os.environ, HF_HUB_OFFLINE='1', WANDB_MODE='disabled', WANDB_DISABLED='true', PYTHONUNBUFFERED='1')
    if device == 'cpu': env['CUDA_VISIBLE_DEVICES'] = ''
    elif 'CUDA_VISIBLE_DEVICES' not in env: env['CUDA_VISIBLE_DEVICES'] = '0' # one GPU: Trainer would use them all
    elif ',' in env['CUDA_VISIBLE_DEVICES']: env['CUDA_VISIBLE_DEVICES'] = env['CUDA_VISIBLE_DEVICES'].split(',')[0]
    return env


def free_cuda():
    import gc, torch
    gc.collect()
    if torch.cuda.is_available(): torch.cuda.empty_cache()


def sample(folder, device, n, max_length, seed=0)->dict:
    """`n` tweets from the model in `folder`, sampled by the library's `generate` with the original's settings, from
    <|endoftext|> alone; and from the raw token ids (which `generate` cuts at the end-of-text token), whether each
    emitted <|endoftext|> within `max_length`: it ended where a tweet ends"""
    from huggingtweets.generate import load_model, generate
    from huggingtweets.train import GENERATION_DEFAULTS
    kw = {k: v for k, v in GENERATION_DEFAULTS.items() if k != 'prefix'} | dict(max_length=max_length) # the same for every model
    tok, model = load_model(folder, device)
    raw, inner = [], model.generate
    def spy(*a, **k): # keeps what model.generate returns: the start token, then the new tokens (end-of-text padded)
        out = inner(*a, **k)
        raw.extend(out[:, 1:].tolist())
        return out
    model.generate = spy
    t = time.perf_counter()
    texts = generate((tok, model), PROMPT_MEMO, n, seed=seed, **kw)
    secs = time.perf_counter() - t
    eos = tok.eos_token_id
    ended = [eos in r for r in raw]
    lengths = [r.index(eos) if eos in r else len(r) for r in raw]
    assert len(raw) == len(texts) == n, (len(raw), len(texts), n)
    return dict(texts=texts, ended=ended, ends_share=sum(ended) / n if n else 0.0, mean_tokens=sum(lengths) / n if n else 0.0,
                max_length=max_length, seconds=secs)


def heldout_losses(folder, device, texts:list[str])->dict:
    """Mean next-token loss over the held-out tweets, computed as the recipe's `valid_loss` computes it (the joined text
    tokenized at once, 1024-token blocks, the last partial one included): over every target (`all`), and over the
    targets that are not <|endoftext|> (`text`), the judge, since the recipe never learns <|endoftext|>: its collator
    masks those labels (pad = eos)."""
    import torch
    from huggingtweets.core import EOT
    from huggingtweets.generate import load_model
    tok, model = load_model(folder, device)
    block = getattr(model.config, 'n_positions', 1024) or 1024
    ids = torch.tensor(tok(EOT + EOT.join(texts) + EOT)['input_ids'], device=model.device)
    tot, n, tot_t, n_t = 0.0, 0, 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids) - 1, block):
            x = ids[s:s + block + 1][None]
            if x.shape[1] < 2: break
            l = torch.nn.functional.cross_entropy(model(input_ids=x[:, :-1]).logits.float()[0], x[0, 1:], reduction='none')
            keep = x[0, 1:] != tok.eos_token_id
            tot, n, tot_t, n_t = tot + l.sum().item(), n + l.numel(), tot_t + l[keep].sum().item(), n_t + keep.sum().item()
    return dict(all=tot / n, text=tot_t / n_t if n_t else None, targets=n, eot_targets=n - n_t)


def stats(values:list)->dict|None:
    "Mean, standard deviation (n-1; 0 for one value), min and max of the values that are not None"
    v = [x for x in values if x is not None]
    if not v: return None
    return dict(mean=statistics.fmean(v), std=statistics.stdev(v) if len(v) > 1 else 0.0, min=min(v), max=max(v), n=len(v))


def summarize(runs:list[dict])->dict:
    "Each figure's `stats` over the seeds' runs of one side"
    return {f: stats([r.get(f) for r in runs]) for f in SUMMARY_FIGURES}


def mean(S, side, f):
    x = S[side].get(f)
    return None if x is None else x['mean']


def spread(S, a, b, f)->float|None:
    "The larger of the two sides' standard deviations across seeds: what a difference of their means is compared with"
    xa, xb = S[a].get(f), S[b].get(f)
    return None if xa is None or xb is None else max(xa['std'], xb['std'])


def loss_delta(S, a, b, f='valid_loss_text')->dict|None:
    "Side `a`'s mean loss minus side `b`'s, with the seed spread, and whether the difference lies within it"
    ma, mb = mean(S, a, f), mean(S, b, f)
    if ma is None or mb is None: return None
    d, s = ma - mb, spread(S, a, b, f)
    return dict(delta=d, spread=s, within_spread=abs(d) <= s, seeds=min(S[a][f]['n'], S[b][f]['n']))


def ratios(S:dict)->dict:
    "huggingtweets' default path and Trainer in bf16 against the recipe, on the means; the losses of every side against the recipe's, and against the side of the same objective"
    rec, ht = 'recipe', 'huggingtweets'
    div = lambda a, b: None if a is None or b in (None, 0) else a / b
    r = dict(step_speedup=div(mean(S, rec, 'step_seconds'), mean(S, ht, 'step_seconds')),
             loop_speedup=div(mean(S, ht, 'tokens_per_s'), mean(S, rec, 'tokens_per_s')),
             loop_seconds_ratio=div(mean(S, rec, 'loop_seconds'), mean(S, ht, 'loop_seconds')),
             memory_ratio=div(mean(S, ht, 'peak_gpu_mem_train_bytes'), mean(S, rec, 'peak_gpu_mem_train_bytes')),
             trainer_bf16_loop_speedup=div(mean(S, 'trainer_bf16', 'tokens_per_s'), mean(S, rec, 'tokens_per_s')))
    for side in ('huggingtweets', 'huggingtweets_masked', 'trainer_bf16'):
        r[f'{side}_text_loss'] = loss_delta(S, side, rec)
        r[f'{side}_all_loss'] = loss_delta(S, side, rec, 'valid_loss_check')
    for side, other in SAME_OBJECTIVE.items(): r[f'{side}_vs_{other}_text_loss'] = loss_delta(S, side, other)
    return r


def targets(r:dict, graph:bool=True)->dict:
    "The targets: speed against the recipe (n/a, `met` None, where the default side did not run its CUDA graph), and a text-token loss no worse than the side of the same objective"
    speed = lambda k, t: dict(target=f'>= {t}', value=r[k], met=None if not graph else r[k] is not None and r[k] >= t)
    out = dict(loop_speedup=speed('loop_speedup', 5), step_speedup=speed('step_speedup', 3))
    for name, side in (('text_loss_delta', 'huggingtweets_masked_vs_recipe'), ('default_text_loss_delta', 'huggingtweets_vs_trainer_bf16')):
        q = r[f'{side}_text_loss'] or {}
        out[name] = dict(target=f'<= {LOSS_TOLERANCE}', sides=side, value=q.get('delta'), spread=q.get('spread'), within_spread=q.get('within_spread'),
                         met=q.get('delta') is not None and q['delta'] <= LOSS_TOLERANCE)
    return out


def mask_verdict(S:dict)->dict:
    """Whether the product should train with mask_eot (the recipe's masking) or learn <|endoftext|> (the default), by the
    text-token loss (a difference counts when beyond the larger of 0.01 and the seed spread) and the share of
    generations that end (a difference counts from `ENDS_MARGIN`)"""
    q = loss_delta(S, 'huggingtweets', 'huggingtweets_masked')
    e_def, e_mask = mean(S, 'huggingtweets', 'ends_share'), mean(S, 'huggingtweets_masked', 'ends_share')
    if q is None or e_def is None or e_mask is None: return dict(choice=None, sentence='mask_eot: not measured.')
    d, tol = q['delta'], max(LOSS_TOLERANCE, q['spread'])
    ends_better, text_worse = e_def - e_mask >= ENDS_MARGIN, d > tol
    ends = f"{e_def:.0%} of its generations end where a tweet ends against {e_mask:.0%} masked"
    loss = f"its text-token loss is {d:+.4f} from the masked model's (tolerance {tol:.4f}: the larger of {LOSS_TOLERANCE} and the seed spread {q['spread']:.4f})"
    if text_worse and ends_better:
        choice, why = False, (f"a trade-off: {ends}, at a text-token loss higher by {d:.4f}, beyond the tolerance {tol:.4f}; "
                              "a tweet that never ends runs on to max_length, so the product keeps the ending")
    elif text_worse:
        choice, why = True, f"the default's text-token loss is worse by {d:.4f}, beyond the tolerance {tol:.4f}, and {ends}: learning <|endoftext|> buys nothing"
    elif e_mask - e_def >= ENDS_MARGIN:
        choice, why = True, f"{ends} (fewer), and {loss}: masking costs nothing the figures show"
    elif ends_better:
        choice, why = False, f"{ends}, and {loss}: " + ('better' if d < -tol else 'no worse')
    else:
        choice, why = False, (f"{ends} (a difference under {ENDS_MARGIN:.0%} of the samples counts for neither), and {loss}: "
                              + ('better' if d < -tol else 'no worse') + '; masking gains nothing the figures show')
    name = 'mask_eot=True (mask <|endoftext|> as the recipe does)' if choice else 'mask_eot=False (the default: learn <|endoftext|>)'
    return dict(choice=choice, text_loss_delta=d, spread=q['spread'], tolerance=tol, ends_share=e_def, ends_share_masked=e_mask,
                sentence=f"mask_eot: train with {name}: {why}.")


def fmt(v, f='{:.2f}'):
    return 'n/a' if v is None else f.format(v)


def gb(b): return None if b is None else b / 1e9


def ms(x:dict|None, f='{:.2f}', scale=1.0)->str:
    "`mean ± std` of a figure's stats (the mean alone when it did not vary)"
    if x is None: return 'n/a'
    m, s = x['mean'] * scale, x['std'] * scale
    return f.format(m) if x['n'] < 2 or s == 0 else f'{f.format(m)} ± {f.format(s)}'


def loops(runs:list[dict])->str:
    "The loops that ran, e.g. 'cuda-graph x3' or 'eager x1, cuda-graph x2'"
    c = Counter(r.get('loop') or '?' for r in runs)
    return ', '.join(f'{k} x{v}' for k, v in sorted(c.items()))


def align(rows)->list[str]:
    w = [max(len(x[i]) for x in rows) for i in range(len(rows[0]))]
    return ['  '.join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(x)).rstrip() for x in rows]


def table(R:dict)->str:
    S, r, sides = R['summary'], R['ratios'], list(SIDES)
    pt, d = R['pretrain'], R['data']
    L = [f"huggingtweets benchmark, {R['mode']} mode, on {R['device']} ({R['date']})",
         f"data: {d['year']} tweets of {Path(d['account']).name}: {d['kept']:,} kept" + (f", {d['used']:,} of them used" if d.get('used', d['kept']) < d['kept'] else '')
         + f"; {d['train_tweets']:,} train / {d['valid_tweets']:,} held out (by hash: the same for every run)",
         (f"base: proxy GPT-2 {pt['size_name']} ({pt['params'] / 1e6:.1f}M params), pretrained {pt['steps']:,} steps of {pt['batch']}x{pt['block']} tokens "
          f"({pt['tokens']:,} tokens, {pt['seconds']:.0f} s) on {pt['tweets']:,} tweets" if 'budget' in pt else f"base: {pt['model_dir']}")
         + f"; held-out loss {fmt(R['base_valid_loss'], '{:.3f}')}, text tokens {fmt(R.get('base_text_loss'), '{:.3f}')}",
         (f"seeds: {', '.join(map(str, R['seeds']))}: {len(R['seeds'])} runs a side; each figure is the mean ± the standard deviation across them (min-max in results.json)"
          if len(R['seeds']) > 1 else f"seed: {R['seeds'][0]}: one run a side, no spread (--seeds 3 for a spread)"), '']
    n = R['settings']['samples']
    def row(name, f, fm='{:.2f}', scale=1.0, ratio=''):
        return (name, *[ms(S[s].get(f), fm, scale) for s in sides], ratio)
    q, qa = r['huggingtweets_text_loss'] or {}, r['huggingtweets_all_loss'] or {}
    rows = [('', *SIDES.values(), 'ht vs recipe'),
            row('whole train step (s)', 'step_seconds', ratio=fmt(r['step_speedup'], '{:.2f}x')),
            row('train loop (s)', 'loop_seconds', ratio=fmt(r['loop_seconds_ratio'], '{:.2f}x')),
            row('tokens trained', 'tokens', '{:,.0f}'),
            row('loop tokens/s', 'tokens_per_s', '{:,.0f}', ratio=fmt(r['loop_speedup'], '{:.2f}x')),
            row('peak GPU memory, training (GB)', 'peak_gpu_mem_train_bytes', scale=1e-9, ratio=fmt(r.get('memory_ratio'), '{:.2f}x')),
            row('  reserved, whole step (GB)', 'peak_gpu_reserved_bytes', scale=1e-9),
            row('held-out loss, text tokens', 'valid_loss_text', '{:.4f}', ratio=fmt(q.get('delta'), '{:+.4f}')),
            row('  all tokens (reference)', 'valid_loss_check', '{:.4f}', ratio=fmt(qa.get('delta'), '{:+.4f}')),
            row(f'ends where a tweet ends (of {n})', 'ends_share'),
            row(f'memorized (of {n})', 'memorized_share'),
            row('  verbatim', 'verbatim_share'),
            row('  12-word span', 'span12_share'),
            ('loop', *[loops(R['runs'][s]) for s in sides], '')]
    L += align(rows)
    notes = sorted({f"{SIDES[s]}: {x['loop_note']}" for s in sides if s != 'recipe' for x in R['runs'][s] if x.get('loop_note')})
    if notes: L += ['loop notes: ' + '; '.join(notes)]
    L += ['', 'held-out text-token loss, difference of the means (spread: the larger standard deviation of the two):']
    for name, x in (('huggingtweets, masked - recipe (the same objective)', r['huggingtweets_masked_vs_recipe_text_loss']),
                    ('huggingtweets - Trainer, bf16 (the same objective)', r['huggingtweets_vs_trainer_bf16_text_loss']),
                    ('huggingtweets - recipe', r['huggingtweets_text_loss']), ('huggingtweets - huggingtweets, masked', loss_delta(S, 'huggingtweets', 'huggingtweets_masked'))):
        if x: L.append(f"  {name}: {x['delta']:+.4f}, " + ('one seed: no spread to compare with' if x['seeds'] < 2 else
                       f"spread {x['spread']:.4f}: " + ('within the seed spread' if x['within_spread'] else 'beyond the seed spread')))
    L += ['', R['mask_eot']['sentence']]
    meaningless = R['mode'] != 'full' or R['device_kind'] != 'cuda'
    if meaningless: L[-1] += f" (not meaningful here: {R['mode']} mode on {R['device_kind']})"
    g = R.get('gen_latency')
    if g: L += ['', f"10-prediction step (huggingtweets, prompt {g['prompt']!r}): cold {g['cold_seconds']:.2f} s (load + generate), warm {fmt(g['warm_seconds'])} s"]
    t = R['targets']
    def target(k, v):
        loss = k.endswith('text_loss_delta')
        s = f"{k} {fmt(v['value'], '{:+.4f}' if loss else '{:.3g}')} {v['target']}: {'n/a (the graph did not run)' if v['met'] is None else 'met' if v['met'] else 'NOT met'}"
        if loss and v.get('spread') is not None:
            s += ' (one seed: no spread)' if len(R['seeds']) < 2 else f" ({'within' if v['within_spread'] else 'beyond'} the seed spread {v['spread']:.4f})"
        return s
    L += ['', 'targets (on an H100, on the means): ' + ', '.join(target(k, v) for k, v in t.items())]
    if meaningless: L[-1] += f" (not meaningful here: {R['mode']} mode on {R['device_kind']})"
    if R['throughput']:
        L += ['', 'throughput, random weights, huggingtweets default path (peak GB: training, the whole step in results.json):']
        rows = [('model', 'params', 'steps', 'tokens/s', 'peak GB', 'step s', 'loop', '10 preds cold/warm s')]
        for x in R['throughput']:
            if 'error' in x: rows.append((x['label'], '', '', 'failed', '', '', '', x['error'][:40])); continue
            gl = x.get('gen_latency') or {}
            rows.append((x['label'], f"{x['params'] / 1e6:,.0f}M", str(x['steps']), f"{x['tokens_per_s']:,.0f}", fmt(gb(x['peak_gpu_mem_train_bytes'])),
                         fmt(x['step_seconds']), x.get('loop') or '?', f"{fmt(gl.get('cold_seconds'))} / {fmt(gl.get('warm_seconds'))}"))
        L += align(rows)
        notes = [f"{x['label']}: {x['loop_note']}" for x in R['throughput'] if x.get('loop_note')]
        if notes: L += ['loop notes: ' + '; '.join(notes)]
    elif R['settings']['sizes']: L += ['', 'throughput: not run yet (--part throughput)']
    return '\n'.join(L)


def write_results_md(R:dict, text:str, path:Path=BENCH/'RESULTS.md'):
    "Rewrite this mode and device's section of RESULTS.md (or add it)"
    key = f"{R['mode']}-{R['device_kind']}"
    begin, end = f'<!-- bench:{key} -->', f'<!-- /bench:{key} -->'
    title = {'full-cuda': 'GPU run', 'smoke-cpu': 'CPU smoke run (tiny sizes: checks the harness, not the speed)'}.get(key, f'{key} run')
    block = (f"{begin}\n## {title}\n\nDevice: {R['device']}. Date: {R['date']}. Commit: {R['git']}. "
             f"torch {R['versions']['torch']}, transformers {R['versions']['transformers']}. Runtime: {R['runtime_seconds']:.0f} s.\n\n"
             f"Command:\n\n```\n{R['command']}\n```\n\n```\n{text}\n```\n{end}")
    old = path.read_text(encoding='utf-8') if path.exists() else '# Benchmark results\n'
    if begin in old and end in old:
        a, rest = old.split(begin, 1)
        new = a + block + rest.split(end, 1)[1]
    else: new = old.rstrip('\n') + '\n\n' + block + '\n'
    path.write_text(new, encoding='utf-8')


def git_commit():
    try:
        c = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return c + ('+changes' if dirty else '') if c else None
    except OSError: return None


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', choices=['cuda', 'cpu'], default=None, help='default: cuda when present, else an error (use --device cpu --smoke)')
    ap.add_argument('--shared', default=str(ROOT.parent/'shared'), help='the shared folder: data, tokenizer, the original recipe')
    ap.add_argument('--out', default=str(BENCH/'out'), help='where models, logs and results.json go')
    ap.add_argument('--smoke', action='store_true', help='tiny sizes everywhere: checks the harness in a minute or two on a CPU')
    ap.add_argument('--part', choices=['all', 'base', 'compare', 'throughput'], default='all',
                    help="all (default); or one part on the same OUT, to fit a time limit: base (pretrain the proxy base), compare "
                         "(the fine-tunes, on OUT/models/base or --base), throughput (adds the throughput runs to OUT/results.json)")
    ap.add_argument('--pretrain-steps', type=int, help=f"the proxy base's pretraining steps (default {FULL['pretrain_steps']}; smoke {SMOKE['pretrain_steps']})")
    ap.add_argument('--base', help='a saved base model folder to use instead of pretraining one')
    ap.add_argument('--seeds', type=int, help=f"fine-tunes a side, seeded --seed, --seed+1, ... (default {FULL['seeds']}; smoke {SMOKE['seeds']})")
    ap.add_argument('--steps', type=int, help='cap every fine-tune at this many optimizer steps (default: the whole epoch; smoke 4)')
    ap.add_argument('--samples', type=int, help='generated tweets per model for memorization and endings (default 100; smoke 10)')
    ap.add_argument('--sizes', help="throughput models, comma-separated from medium,large,xl,small,tiny; '' for none")
    ap.add_argument('--throughput-steps', type=int, help='optimizer steps of each throughput run (default 100)')
    ap.add_argument('--seed', type=int, default=0, help='the first seed; also seeds the proxy base and the smoke subset')
    ap.add_argument('--keep-models', action='store_true', help='keep the throughput runs\' model folders (GPT-2 xl is 6 GB twice)')
    ap.add_argument('--write-results', action='store_true', help='rewrite this mode and device\'s section of bench/RESULTS.md')
    return ap.parse_args(argv)


def command_line(argv)->str:
    return 'python ' + ' '.join(shlex.quote(x) for x in ([os.path.relpath(sys.argv[0], ROOT) if argv is None else 'bench/bench.py']
                                                         + (sys.argv[1:] if argv is None else list(argv))))


def pretrain_base(a, mode, paths, out, device, command='')->tuple[Path, dict]:
    "Pretrain the proxy base into OUT/models/base; pretrain.json there records its figures and the command"
    from proxy import pretrain
    t = time.perf_counter()
    base = out/'models'/'base'
    shutil.rmtree(base, ignore_errors=True)
    size = GPT2_SIZES[mode['base_size']]
    log(f"[bench] pretraining the proxy base: GPT-2 {mode['base_size']}, {mode['pretrain_steps']:,} steps of {mode['pretrain_batch']}x{size['n_positions']} tokens")
    pt = pretrain(str(paths['tokenizer']), str(paths['pretrain']), str(base), size, steps=mode['pretrain_steps'], batch=mode['pretrain_batch'],
                  lr=mode['pretrain_lr'], warmup=mode['pretrain_warmup'], seed=a.seed, device=device, max_tweets=mode['pretrain_tweets'],
                  cache_dir=out/'cache', log=log, size_name=mode['base_size'])
    log(f"[bench] pretrained {pt['steps']:,} steps in {pt['seconds']:.0f} s ({pt['tokens_per_s']:,.0f} tokens/s)")
    pt.update(command=command, part_seconds=time.perf_counter() - t)
    (base/'pretrain.json').write_text(json.dumps(pt, indent=2))
    free_cuda()
    return base, pt


def compare(a, mode, paths, out, device, base:Path)->dict:
    "The fine-tunes of every side and seed, then their held-out losses, endings and copies: the comparison part of results.json"
    from huggingtweets.dataset import load_dataset
    from huggingtweets.train import load_base, evaluate
    from memo import Memorization
    for sub in ('data', 'jobs', *[f'models/{s}' for s in SIDES]): shutil.rmtree(out/sub, ignore_errors=True)
    jobs = out/'jobs'
    jobs.mkdir(parents=True)
    env = job_env(device)
    seeds = [a.seed + i for i in range(mode['seeds'])]
    log(f'[bench] data: the {YEAR} tweets of {paths["account"].name}, a dataset for each of the seeds {seeds}')
    data = make_data(paths['account'], out/'data', mode['tweets'], seeds)
    pt = json.loads((base/'pretrain.json').read_text()) if (base/'pretrain.json').exists() else dict(model_dir=str(base))
    valid = load_dataset(data['datasets'][str(seeds[0])]).valid_texts
    train = (out/'data'/'train.tweets').read_text(encoding='utf-8').splitlines()
    tok, model = load_base(str(base))
    base_ev = evaluate(model.to(device), tok, valid, 1024)
    del model
    free_cuda()

    steps = mode['steps'] if mode['steps'] and mode['steps'] > 0 else -1
    runs = {s: [] for s in SIDES}
    for seed in seeds: # the sides interleaved, seed by seed, so that a drift of the machine spreads over all three
        for side in SIDES:
            label, model_out = f'{side}-{seed}', out/'models'/side/f'seed-{seed}'
            log(f'[bench] fine-tuning: {SIDES[side]}, seed {seed}')
            if side == 'recipe':
                spec = dict(kind='recipe', label=label, device=device, seed=seed, recipe=str(paths['recipe']), recipe_json=str(jobs/f'{label}.json'),
                            model_out=str(model_out), argv=['--tweets', str(out/'data'/'train.tweets'), '--tokenizer', str(paths['tokenizer']),
                            '--model', str(base), '--valid', str(out/'data'/'valid.tweets'), '--save', str(model_out), '--json', str(jobs/f'{label}.json')]
                            + (['--steps', str(steps)] if steps > 0 else []))
            else:
                spec = dict(kind='huggingtweets', label=label, device=device, seed=seed, base=str(base), dataset=data['datasets'][str(seed)],
                            model_out=str(model_out), max_steps=steps, mask_eot=side == 'huggingtweets_masked')
                if side == 'trainer_bf16': spec |= dict(loop='trainer', precision='bf16') # Trainer on the default's objective: the graph's own share
            runs[side].append(run_job(spec, jobs, env) | dict(seed=seed, side=side))

    memo = Memorization(list(dict.fromkeys(train)))
    for side, rs in runs.items():
        for r in rs:
            h = heldout_losses(r['model_dir'], device, valid)
            r['valid_loss_check'], r['valid_loss_text'], r['eot_target_share'] = h['all'], h['text'], h['eot_targets'] / h['targets']
            free_cuda()
            log(f"[bench] generating {mode['samples']} tweets from {SIDES[side]}, seed {r['seed']}")
            g = sample(r['model_dir'], device, mode['samples'], mode['gen_max_length'], seed=r['seed'])
            r['ends_share'] = g['ends_share']
            r['generations'] = dict(n=mode['samples'], prompt=PROMPT_MEMO, max_length=g['max_length'], ended=sum(g['ended']),
                                    ends_share=g['ends_share'], mean_new_tokens=g['mean_tokens'], seconds=g['seconds'])
            m = memo.share(g['texts'])
            r['memorization'] = m | dict(samples=g['texts'][:10])
            r.update(memorized_share=m['memorized_share'], verbatim_share=m['verbatim_share'], span12_share=m['span12_share'])
            free_cuda()
    from job import gen_latency
    lat = gen_latency(runs['huggingtweets'][0]['model_dir'], device, 10, PROMPT_LATENCY, mode['latency_repeats'], mode['gen_max_length'])
    free_cuda()
    S = {s: summarize(rs) for s, rs in runs.items()}
    r = ratios(S)
    return dict(seeds=seeds, data=data, pretrain=pt, base_valid_loss=base_ev.loss, base_text_loss=base_ev.text_loss, runs=runs, summary=S,
                ratios=r, targets=targets(r, all(x.get('loop') == 'cuda-graph' for x in runs['huggingtweets'])), mask_eot=mask_verdict(S), gen_latency=lat)


def throughput(a, mode, paths, out, device, dataset:str)->list[dict]:
    env, jobs, thr = job_env(device), out/'jobs', []
    jobs.mkdir(parents=True, exist_ok=True)
    for s in [s for s in mode['sizes'].split(',') if s]:
        log(f'[bench] throughput: GPT-2 {s}, random weights, {mode["throughput_steps"]} steps')
        spec = dict(kind='huggingtweets', label=f'gpt2-{s}', device=device, seed=a.seed, tokenizer=str(paths['tokenizer']),
                    make_random=GPT2_SIZES[s], model_dir=str(out/'models'/f'random-{s}'), base=str(out/'models'/f'random-{s}'),
                    dataset=dataset, model_out=str(out/'models'/f'tuned-{s}'), max_steps=mode['throughput_steps'],
                    gen_latency=dict(n=10, prompt=PROMPT_LATENCY, repeats=mode['latency_repeats'], max_length=mode['gen_max_length']))
        try:
            x = run_job(spec, jobs, env)
            x['fits_80gb'] = None if x['peak_gpu_mem_bytes'] is None else x['peak_gpu_mem_bytes'] < 80e9
        except RuntimeError as e:
            x = dict(label=spec['label'], size=GPT2_SIZES[s], error=str(e).splitlines()[0], log=str(jobs/f"{spec['label']}.log"))
            log(f'[bench] {e}')
        thr.append(x)
        if not a.keep_models:
            for k in ('model_dir', 'model_out'): shutil.rmtree(spec[k], ignore_errors=True)
    return thr


def main(argv=None):
    t_start = time.perf_counter()
    a = parse_args(argv)
    mode = dict(SMOKE if a.smoke else FULL)
    for k in ('pretrain_steps', 'seeds', 'steps', 'samples', 'sizes', 'throughput_steps'):
        if getattr(a, k) is not None: mode[k] = getattr(a, k)
    bad = [s for s in mode['sizes'].split(',') if s and s not in GPT2_SIZES]
    if bad:
        print(f"--sizes: unknown {', '.join(bad)}; choose from {', '.join(GPT2_SIZES)}", file=sys.stderr)
        return 2
    if mode['seeds'] < 1 or mode['pretrain_steps'] < 1:
        print('--seeds and --pretrain-steps must be at least 1', file=sys.stderr)
        return 2
    try: paths = shared_paths(Path(a.shared).resolve())
    except Skip as e:
        print(f'SKIPPED: {e}' if a.smoke else f'error: {e}', file=sys.stdout if a.smoke else sys.stderr)
        return 0 if a.smoke else 2
    import torch
    device = a.device or ('cuda' if torch.cuda.is_available() else None)
    if device is None:
        print('No CUDA GPU is visible: run on a GPU, or check the harness with `--device cpu --smoke`.', file=sys.stderr)
        return 2
    if device == 'cuda' and not torch.cuda.is_available():
        print('--device cuda, but no CUDA GPU is visible.', file=sys.stderr)
        return 2
    if device == 'cpu' and not a.smoke: log('warning: the full benchmark on a CPU takes hours; --smoke checks the harness')
    if device == 'cuda':
        torch.cuda.set_device(0)
        dev_name = torch.cuda.get_device_name()
    else: dev_name = f'cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)'
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    import transformers, huggingtweets
    transformers.utils.logging.disable_progress_bar() # a bar for every model loaded: the bench's own lines say more
    mode_name = 'smoke' if a.smoke else 'full'

    if a.part == 'base':
        base, pt = pretrain_base(a, mode, paths, out, device, command_line(argv))
        print(json.dumps(pt, indent=2))
        return 0
    if a.part == 'throughput':
        R = json.loads((out/'results.json').read_text()) if (out/'results.json').exists() else None
        if not R or R['mode'] != mode_name or R['device_kind'] != device:
            print(f'--part throughput adds to {out/"results.json"} of a {mode_name} run on {device} (--part compare first)', file=sys.stderr)
            return 2
        R['throughput'] = throughput(a, mode, paths, out, device, R['data']['datasets'][str(R['seeds'][0])])
        R['settings'] |= dict(sizes=mode['sizes'], throughput_steps=mode['throughput_steps'])
        R['command'] += '\n' + command_line(argv)
        R['runtime_seconds'] += time.perf_counter() - t_start
    else:
        if a.base: base = Path(a.base).resolve()
        elif a.part == 'compare':
            base = out/'models'/'base'
            if not (base/'config.json').exists():
                print(f'--part compare needs a base: {base} (--part base first) or --base DIR', file=sys.stderr)
                return 2
        else: base, _ = pretrain_base(a, mode, paths, out, device, command_line(argv))
        C = compare(a, mode, paths, out, device, base)
        pt = C['pretrain']
        separate = a.part == 'compare' and pt.get('command') # pretrained by an earlier `--part base`: its command and time count
        R = dict(mode=mode_name, device=dev_name, device_kind=device,
                 date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
                 command=(pt['command'] + '\n' if separate else '') + command_line(argv),
                 git=git_commit(), versions=dict(python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                                                  huggingtweets=huggingtweets.__version__), settings=mode, **C, throughput=[],
                 timing_method='job.py: step_seconds = wall time from after the imports and CUDA init to the saved model folder, minus the held-out '
                               'evaluations; loop_seconds = the train loop as each reports it; every figure: mean and spread over the seeds')
        if a.part == 'all': R['throughput'] = throughput(a, mode, paths, out, device, C['data']['datasets'][str(C['seeds'][0])])
        R['runtime_seconds'] = time.perf_counter() - t_start + (pt.get('part_seconds', 0) if separate else 0)
    text = table(R)
    print(text)
    (out/'results.json').write_text(json.dumps(R, indent=2, default=str))
    (out/'table.txt').write_text(text + '\n')
    print(f'\nresults: {out/"results.json"} ({R["runtime_seconds"]:.0f} s)')
    if a.write_results:
        write_results_md(R, text)
        print(f'written to {BENCH/"RESULTS.md"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
