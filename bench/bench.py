"""The huggingtweets benchmark: the original's training recipe against huggingtweets' default path.

  python bench/bench.py [--device cuda|cpu] [--shared ../shared] [--out bench/out]
                        [--pretrain-seconds 120] [--smoke] [--write-results]

In one run, on one device, on the same data, tokenizer and base weights:
1. a proxy base model (no pretrained GPT-2 can be downloaded): GPT-2 small with the real GPT-2
   tokenizer, pretrained on other accounts' tweets for a fixed, seeded budget (proxy.py);
2. the 2016 tweets of trump_tweets.jsonl, cleaned by the rules, 10% held out, fine-tuned from it with
   the original recipe (../shared/bench/upstream_recipe.py, run as it lies) and with huggingtweets'
   default path (`finetune` with the default `TrainConfig`), each in its own process (job.py);
3. for both: the whole train step's wall time after the imports, the train loop's time and tokens/s,
   peak GPU memory, the held-out loss, and the share of generated tweets that copy a training tweet
   (memo.py);
4. throughput of GPT-2 medium, large and xl with random weights on the default path, and the latency
   of the 10-prediction generation step.
It prints a table, writes OUT/results.json, and with --write-results rewrites its section of
bench/RESULTS.md. `--device cpu --smoke` runs the same steps with tiny sizes in about a minute.
See bench/README.md.
"""
import argparse, dataclasses, datetime, json, os, platform, random, shlex, shutil, subprocess, sys, time, warnings
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
FULL = dict(base_size='small', pretrain_seconds=120, pretrain_batch=16, pretrain_lr=6e-4, pretrain_warmup=50,
            pretrain_tweets=None, tweets=None, steps=-1, samples=100, gen_max_length=None, latency_repeats=3,
            sizes='medium,large,xl', throughput_steps=100)
SMOKE = dict(base_size='tiny', pretrain_seconds=3, pretrain_batch=1, pretrain_lr=1e-3, pretrain_warmup=5,
             pretrain_tweets=3000, tweets=200, steps=4, samples=20, gen_max_length=40, latency_repeats=1,
             sizes='tiny', throughput_steps=2)
PROMPT_MEMO = '' # memorization samples start from <|endoftext|> alone: the model's own idea of a tweet
PROMPT_LATENCY = 'My dream is' # the original's default prompt, for the 10-prediction step
YEAR = '2016'


def log(*a): print(*a, file=sys.stderr, flush=True)


class Skip(Exception): pass


def shared_paths(shared:Path)->dict:
    p = dict(recipe=shared/'bench'/'upstream_recipe.py', tokenizer=shared/'gpt2-tokenizer',
             account=shared/'data'/'accounts'/'trump_tweets.jsonl', pretrain=shared/'data'/'pretrain'/'tweets_en.txt.gz')
    missing = [str(v) for v in p.values() if not v.exists()]
    if missing: raise Skip(f"the benchmark needs ../shared (data, tokenizer, the original's recipe); missing: {', '.join(missing)}")
    return p


def make_data(account:Path, out:Path, n_tweets:int|None, seed:int):
    "The 2016 tweets, cleaned by the rules, 10% held out: a dataset folder, and train.tweets for the recipe"
    from huggingtweets.sources import read_file
    from huggingtweets.clean import curate
    from huggingtweets.dataset import make_dataset, save_dataset
    acc = read_file(account)
    acc = dataclasses.replace(acc, posts=[p for p in acc.posts if p.date.startswith(YEAR)])
    cur = curate(acc)
    if n_tweets and n_tweets < len(cur.texts): cur = dataclasses.replace(cur, texts=random.Random(seed).sample(cur.texts, n_tweets))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore') # the smoke subset is under the 40,000-character warning
        ds = make_dataset([cur], epochs=4, seed=seed, valid_frac=0.1)
    train = list((Counter(cur.texts) - Counter(ds.valid)).elements())
    save_dataset(ds, out)
    (out/'train.tweets').write_text(''.join(t + '\n' for t in train), encoding='utf-8')
    info = dict(account=str(account), year=YEAR, downloaded=cur.stats.downloaded, kept=len(cur.texts),
                train_tweets=len(train), valid_tweets=len(ds.valid), seed=seed, dir=str(out))
    return ds, train, info


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


def sample(folder, device, n, max_length, seed=0):
    "`n` tweets from the model in `folder`, sampled with the original's settings, from <|endoftext|> alone"
    from huggingtweets.generate import load_model, generate
    from huggingtweets.train import GENERATION_DEFAULTS
    kw = {k: v for k, v in GENERATION_DEFAULTS.items() if k != 'prefix'} # the same settings for both models
    if max_length: kw['max_length'] = max_length
    pair = load_model(folder, device)
    t = time.perf_counter()
    out = generate(pair, PROMPT_MEMO, n, seed=seed, **kw)
    return out, time.perf_counter() - t


def heldout_losses(folder, device, texts:list[str])->dict:
    """Mean next-token loss over the held-out tweets, as both recipes report it (`all`), and over the text tokens
    only (`text`: targets that are <|endoftext|> left out). The recipe's collator masks <|endoftext|> labels
    (its pad token), so it never learns where a tweet ends; `text` compares the two on the words alone."""
    import torch
    from huggingtweets.generate import load_model
    from huggingtweets.train import tokenize_text
    from huggingtweets.clean import EOT
    tok, model = load_model(folder, device)
    block = getattr(model.config, 'n_positions', 1024) or 1024
    ids = torch.tensor(tokenize_text(tok, EOT + EOT.join(texts) + EOT), device=model.device)
    tot, n, tot_t, n_t = 0.0, 0, 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids) - 1, block):
            x = ids[s:s + block + 1][None]
            if x.shape[1] < 2: break
            l = torch.nn.functional.cross_entropy(model(input_ids=x[:, :-1]).logits.float()[0], x[0, 1:], reduction='none')
            keep = x[0, 1:] != tok.eos_token_id
            tot, n, tot_t, n_t = tot + l.sum().item(), n + l.numel(), tot_t + l[keep].sum().item(), n_t + keep.sum().item()
    return dict(all=tot / n, text=tot_t / n_t if n_t else None)


def gb(b): return None if b is None else b / 1e9


def ratios(rec, ht):
    r = dict(step_speedup=rec['step_seconds'] / ht['step_seconds'],
             loop_speedup=ht['tokens_per_s'] / rec['tokens_per_s'],
             loop_seconds_ratio=rec['loop_seconds'] / ht['loop_seconds'],
             valid_loss_delta=None if rec['valid_loss'] is None or ht['valid_loss'] is None else ht['valid_loss'] - rec['valid_loss'],
             valid_loss_text_delta=None if rec.get('valid_loss_text') is None or ht.get('valid_loss_text') is None else ht['valid_loss_text'] - rec['valid_loss_text'])
    if rec['peak_gpu_mem_bytes'] and ht['peak_gpu_mem_bytes']: r['memory_ratio'] = ht['peak_gpu_mem_bytes'] / rec['peak_gpu_mem_bytes']
    return r


def targets(r):
    return dict(loop_speedup=dict(target='>= 5', value=r['loop_speedup'], met=r['loop_speedup'] >= 5),
                step_speedup=dict(target='>= 3', value=r['step_speedup'], met=r['step_speedup'] >= 3),
                valid_loss_delta=dict(target='<= 0.01', value=r['valid_loss_delta'],
                                      met=r['valid_loss_delta'] is not None and r['valid_loss_delta'] <= 0.01))


def fmt(v, f='{:.2f}'):
    return 'n/a' if v is None else f.format(v)


def table(R:dict)->str:
    rec, ht, r = R['runs']['recipe'], R['runs']['huggingtweets'], R['ratios']
    pt, d = R['pretrain'], R['data']
    L = [f"huggingtweets benchmark, {R['mode']} mode, on {R['device']} ({R['date']})",
         f"data: {d['year']} tweets of {Path(d['account']).name}: {d['kept']:,} kept, {d['train_tweets']:,} train / {d['valid_tweets']:,} held out",
         (f"base: proxy GPT-2 {pt['size_name']} ({pt['params'] / 1e6:.1f}M params), pretrained {pt['seconds']:.0f} s, {pt['steps']:,} steps, "
          f"{pt['tokens']:,} tokens on {pt['tweets']:,} tweets" if 'budget' in pt else f"base: {pt['model_dir']}")
         + f"; held-out loss {fmt(R['base_valid_loss'], '{:.3f}')}", '']
    rows = [('', 'recipe', 'huggingtweets', 'ratio'),
            ('whole train step (s)', fmt(rec['step_seconds']), fmt(ht['step_seconds']), fmt(r['step_speedup'], '{:.2f}x')),
            ('train loop (s)', fmt(rec['loop_seconds']), fmt(ht['loop_seconds']), fmt(r['loop_seconds_ratio'], '{:.2f}x')),
            ('tokens trained', f"{rec['tokens']:,}", f"{ht['tokens']:,}", ''),
            ('loop tokens/s', f"{rec['tokens_per_s']:,.0f}", f"{ht['tokens_per_s']:,.0f}", fmt(r['loop_speedup'], '{:.2f}x')),
            ('peak GPU memory (GB)', fmt(gb(rec['peak_gpu_mem_bytes'])), fmt(gb(ht['peak_gpu_mem_bytes'])), fmt(r.get('memory_ratio'), '{:.2f}x')),
            ('held-out loss', fmt(rec['valid_loss'], '{:.4f}'), fmt(ht['valid_loss'], '{:.4f}'), fmt(r['valid_loss_delta'], '{:+.4f}')),
            ('  text tokens only', fmt(rec['valid_loss_text'], '{:.4f}'), fmt(ht['valid_loss_text'], '{:.4f}'), fmt(r['valid_loss_text_delta'], '{:+.4f}')),
            (f"memorized (of {ht['memorization']['n']})", fmt(rec['memorization']['memorized_share']), fmt(ht['memorization']['memorized_share']), ''),
            ('  verbatim', fmt(rec['memorization']['verbatim_share']), fmt(ht['memorization']['verbatim_share']), ''),
            ('  12-word span', fmt(rec['memorization']['span12_share']), fmt(ht['memorization']['span12_share']), '')]
    w = [max(len(x[i]) for x in rows) for i in range(4)]
    L += ['  '.join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(x)).rstrip() for x in rows]
    g = ht.get('gen_latency')
    if g: L += ['', f"10-prediction step (huggingtweets, prompt {g['prompt']!r}): cold {g['cold_seconds']:.2f} s (load + generate), warm {fmt(g['warm_seconds'])} s"]
    t = R['targets']
    L += ['', 'targets (on an H100): ' + ', '.join(f"{k} {fmt(v['value'], '{:.3g}')} {v['target']}: {'met' if v['met'] else 'NOT met'}" for k, v in t.items())]
    if R['mode'] != 'full' or R['device_kind'] != 'cuda': L[-1] += f" (not meaningful here: {R['mode']} mode on {R['device_kind']})"
    if R['throughput']:
        L += ['', 'throughput, random weights, huggingtweets default path:']
        rows = [('model', 'params', 'steps', 'tokens/s', 'peak GB', 'step s', '10 preds cold/warm s')]
        for x in R['throughput']:
            if 'error' in x: rows.append((x['label'], '', '', 'failed', '', '', x['error'][:40])); continue
            gl = x.get('gen_latency') or {}
            rows.append((x['label'], f"{x['params'] / 1e6:,.0f}M", str(x['steps']), f"{x['tokens_per_s']:,.0f}", fmt(gb(x['peak_gpu_mem_bytes'])),
                         fmt(x['step_seconds']), f"{fmt(gl.get('cold_seconds'))} / {fmt(gl.get('warm_seconds'))}"))
        w = [max(len(x[i]) for x in rows) for i in range(len(rows[0]))]
        L += ['  '.join(c.ljust(w[0]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(x)).rstrip() for x in rows]
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
    ap.add_argument('--smoke', action='store_true', help='tiny sizes everywhere: checks the harness in about a minute on a CPU')
    ap.add_argument('--pretrain-seconds', type=float, help=f"the proxy base's training budget (default {FULL['pretrain_seconds']}; smoke {SMOKE['pretrain_seconds']})")
    ap.add_argument('--pretrain-steps', type=int, help='pretrain exactly this many steps instead of a time budget')
    ap.add_argument('--base', help='a saved base model folder to use instead of pretraining one')
    ap.add_argument('--steps', type=int, help='cap both fine-tunes at this many optimizer steps (default: the whole epoch; smoke 4)')
    ap.add_argument('--samples', type=int, help='generated tweets per model for memorization (default 100; smoke 20)')
    ap.add_argument('--sizes', help="throughput models, comma-separated from medium,large,xl,small,tiny; '' for none")
    ap.add_argument('--throughput-steps', type=int, help='optimizer steps of each throughput run (default 100)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--keep-models', action='store_true', help='keep the throughput runs\' model folders (GPT-2 xl is 6 GB twice)')
    ap.add_argument('--write-results', action='store_true', help='rewrite this mode and device\'s section of bench/RESULTS.md')
    return ap.parse_args(argv)


def main(argv=None):
    t_start = time.perf_counter()
    a = parse_args(argv)
    mode = dict(SMOKE if a.smoke else FULL)
    for k in ('pretrain_seconds', 'steps', 'samples', 'sizes', 'throughput_steps'):
        if getattr(a, k) is not None: mode[k] = getattr(a, k)
    bad = [s for s in mode['sizes'].split(',') if s and s not in GPT2_SIZES]
    if bad:
        print(f"--sizes: unknown {', '.join(bad)}; choose from {', '.join(GPT2_SIZES)}", file=sys.stderr)
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
    for sub in ['data', 'jobs', 'models/recipe', 'models/huggingtweets'] + ([] if a.base else ['models/base']):
        shutil.rmtree(out/sub, ignore_errors=True)
    jobs = out/'jobs'
    jobs.mkdir(parents=True)
    env = job_env(device)
    import transformers, huggingtweets
    from huggingtweets.train import load_base, valid_loss

    log(f'[bench] data: the {YEAR} tweets of {paths["account"].name}')
    ds, train, data_info = make_data(paths['account'], out/'data', mode['tweets'], a.seed)

    if a.base:
        base = Path(a.base).resolve()
        pt = json.loads((base/'pretrain.json').read_text()) if (base/'pretrain.json').exists() else dict(model_dir=str(base))
    else:
        from proxy import pretrain
        base = out/'models'/'base'
        size = GPT2_SIZES[mode['base_size']]
        log(f"[bench] pretraining the proxy base: GPT-2 {mode['base_size']}, " + (f"{a.pretrain_steps} steps" if a.pretrain_steps else f"{mode['pretrain_seconds']:g} s"))
        pt = pretrain(str(paths['tokenizer']), str(paths['pretrain']), str(base), size, seconds=mode['pretrain_seconds'],
                      steps=a.pretrain_steps, batch=mode['pretrain_batch'], lr=mode['pretrain_lr'], warmup=mode['pretrain_warmup'],
                      seed=a.seed, device=device, max_tweets=mode['pretrain_tweets'], cache_dir=out/'cache', log=log,
                      size_name=mode['base_size'])
        free_cuda()
    tok, model = load_base(str(base))
    base_vl = valid_loss(model.to(device), tok, ds.valid, 1024)
    del model
    free_cuda()

    steps = mode['steps']
    runs = {}
    log('[bench] fine-tuning with the original recipe')
    runs['recipe'] = run_job(dict(kind='recipe', label='recipe', device=device, seed=a.seed, recipe=str(paths['recipe']),
        recipe_json=str(jobs/'recipe.json'), model_out=str(out/'models'/'recipe'),
        argv=['--tweets', str(out/'data'/'train.tweets'), '--tokenizer', str(paths['tokenizer']), '--model', str(base),
              '--valid', str(out/'data'/'valid.txt'), '--save', str(out/'models'/'recipe'), '--json', str(jobs/'recipe.json')]
             + (['--steps', str(steps)] if steps and steps > 0 else [])), jobs, env)
    log('[bench] fine-tuning with huggingtweets\' default path')
    runs['huggingtweets'] = run_job(dict(kind='huggingtweets', label='huggingtweets', device=device, seed=a.seed, base=str(base),
        dataset=str(out/'data'), model_out=str(out/'models'/'huggingtweets'), max_steps=steps if steps and steps > 0 else -1), jobs, env)

    from memo import Memorization
    memo = Memorization(train)
    for name, r in runs.items():
        h = heldout_losses(r['model_dir'], device, ds.valid)
        r['valid_loss_check'], r['valid_loss_text'] = h['all'], h['text']
        free_cuda()
        log(f'[bench] generating {mode["samples"]} tweets from the {name} model')
        gens, secs = sample(r['model_dir'], device, mode['samples'], mode['gen_max_length'], seed=a.seed)
        r['memorization'] = memo.share(gens) | dict(prompt=PROMPT_MEMO, seconds=secs, samples=gens[:10])
        free_cuda()
    from job import gen_latency
    runs['huggingtweets']['gen_latency'] = gen_latency(runs['huggingtweets']['model_dir'], device, 10, PROMPT_LATENCY,
                                                        mode['latency_repeats'], mode['gen_max_length'])
    free_cuda()

    thr = []
    sizes = [s for s in mode['sizes'].split(',') if s]
    for s in sizes:
        log(f'[bench] throughput: GPT-2 {s}, random weights, {mode["throughput_steps"]} steps')
        spec = dict(kind='huggingtweets', label=f'gpt2-{s}', device=device, seed=a.seed, tokenizer=str(paths['tokenizer']),
                    make_random=GPT2_SIZES[s], model_dir=str(out/'models'/f'random-{s}'), base=str(out/'models'/f'random-{s}'),
                    dataset=str(out/'data'), model_out=str(out/'models'/f'tuned-{s}'), max_steps=mode['throughput_steps'],
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

    r = ratios(runs['recipe'], runs['huggingtweets'])
    R = dict(mode='smoke' if a.smoke else 'full', device=dev_name, device_kind=device,
             date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
             command='python ' + ' '.join(shlex.quote(x) for x in ([os.path.relpath(sys.argv[0], ROOT) if argv is None else 'bench/bench.py'] + (sys.argv[1:] if argv is None else list(argv)))),
             git=git_commit(), versions=dict(python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                                              huggingtweets=huggingtweets.__version__),
             settings=mode, data=data_info, pretrain=pt, base_valid_loss=base_vl, runs=runs, ratios=r, targets=targets(r),
             throughput=thr, timing_method='job.py: step_seconds = wall time from after the imports and CUDA init to the saved model folder, minus the held-out evaluation; loop_seconds = the train loop as each reports it')
    R['runtime_seconds'] = time.perf_counter() - t_start
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
