"""What only a GPU shows about huggingtweets' training, checked in one call: PASS, WARN, FAIL or SKIP for each check, and
the figures in a JSON file.

    python bench/gpu_check.py --cpu-dry-run              # every check's code on the CPU at tiny sizes (the GPU-only ones SKIP): CI runs it
    python bench/gpu_check.py --wheels                   # what a machine with only torch and transformers lacks, and how to bring it
    python bench/gpu_check.py --bundle .gpu/wheels --python-version 3.12 --have pandas   # online: the wheels of all it needs beyond them (and pandas)
    python bench/gpu_check.py --tokenizer DIR            # on one GPU (under 8 minutes on an H100), with GPT-2's tokenizer in DIR

Each check runs in its own process, so one that crashes or leaves CUDA broken can't spoil the next. The models are GPT-2
small and GPT-2 xl in shape, initialised at random from their configs on the spot (nothing to download, nothing to carry
but the tokenizer), trained on the bundled example account. The checks:

* `loop`: the default run takes the CUDA graph, with no note, for the default and the masked objective, and the graph's first replay passes
  its self-check (`graph_check`: the loss eager computes on the same batch and weights, within 2^-8; the weights and the step count moved);
* `flash`: the step's attention runs the flash kernels (not math, not memory-efficient), forward and backward, from the profiler;
* `syncs`: no host synchronisation in a replayed step, beyond the logging steps;
* `graph_vs_eager`: with dropout off, graph and eager losses within 1% and grad norms within 5% step by step, held-out loss
  within 0.01, and the learning rate decaying inside the graph (the last steps' weight updates far smaller than the first's);
* `speed`: against the recipe (Trainer, fp32, batch 1, masked), after the same untimed warm-up for every side: train loop
  >= 5x, whole train step >= 3x; Trainer in bf16 beside them; held-out text-token loss of the masked graph vs the recipe,
  and of the default vs Trainer bf16 (the same objectives), within 0.03;
* `memory`: after `finetune`, GPU memory back to the weights alone; GPT-2 xl captured within 70 GB reserved, with the
  app's estimate beside the real peak;
* `fallback`: a capture made to fail: the eager fallback finishes, the stream is the default one again, dropout works,
  and the next run captures its graph.
"""
import argparse, importlib, importlib.util, json, math, os, shlex, shutil, subprocess, sys, tempfile, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT)) # this checkout's huggingtweets, installed or not
NEEDED = ('torch', 'transformers', 'accelerate', 'datasets', 'regex', 'requests', 'py3langid') # what the checks import (a library's own imports aside)
BASE = ('torch', 'transformers') # what a CUDA image for transformers has, with what they require
BUNDLE = ('accelerate', 'datasets', 'py3langid', 'requests') # the rest: Trainer's accelerate, the dataset's datasets, the language ids, the sources' requests
BUNDLE_LIMIT = 64 << 20 # what one device call carries
LOWEST = ('pyarrow',) # bundled at the lowest version the others require, not the one installed here: its wheel grows each release (46.6 MiB at 24.0.0, 52.5 at 26.0.1)


def requirement_closure(names)->dict[str, str]:
    "The distributions `names` require, themselves included, recursively, as installed here (extras left out): name -> version"
    import importlib.metadata as md
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    seen, todo = {}, list(names)
    while todo:
        d = md.distribution(todo.pop())
        if (name := canonicalize_name(d.metadata['Name'])) in seen: continue
        seen[name] = d.version
        todo += [r.name for r in map(Requirement, d.requires or []) if not r.marker or r.marker.evaluate({'extra': ''})]
    return seen


def lowest_required(name:str, among)->str|None:
    "The highest `>=` or `==` bound that the installed distributions `among` put on `name`: the lowest version they all accept"
    import importlib.metadata as md
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
    bounds = [Version(sp.version) for d in among for r in map(Requirement, md.requires(d) or []) if canonicalize_name(r.name) == name
              and (not r.marker or r.marker.evaluate({'extra': ''})) for sp in r.specifier if sp.operator in ('>=', '==')]
    return str(max(bounds)) if bounds else None


def bundle_requirements(have:tuple=())->dict[str, str]:
    "What the check needs beyond torch, transformers, the distributions in `have` and what they all require, at the versions installed here (`LOWEST`: the lowest the others accept): name -> version"
    base = requirement_closure(BASE + tuple(have))
    need = {n: v for n, v in sorted(requirement_closure(BUNDLE).items()) if n not in base}
    return need | {n: lowest_required(n, need) or need[n] for n in LOWEST if n in need}


def install_line(folder:str)->str:
    "The install from a bundle, with no network: its requirements (pip checks that each one's own are there), then huggingtweets' own wheel, whose other requirements the check does not import"
    q = shlex.quote(folder) # a folder with a space or a `;` in its name: the line still installs from it, and runs nothing else
    return (f"pip install --no-index --find-links {q} -r {shlex.quote(folder + '/requirements.txt')} && "
            f"pip install --no-index --no-deps {q}/huggingtweets-*.whl")


def make_bundle(folder:str, # Where the wheels go: a new or empty folder
                python:str, # The GPU machine's Python, as 3.11
                have:tuple=(), # Distributions the GPU machine has beside torch and transformers, left out (as pandas)
               )->str:
    "Download the wheels the check needs beyond torch and transformers for `python` on manylinux x86_64, and build huggingtweets' own from this tree, into `folder` (whole, or not at all); the install line"
    from huggingtweets.core import AtomicDir
    out = Path(folder)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))): raise SystemExit(f'{folder} is not an empty folder: give a new one.')
    try: reqs = bundle_requirements(have)
    except ImportError as e: raise SystemExit(f'{e.name} is not installed here: bundle where huggingtweets is installed (pip install -e .), and name in --have '
                                              'distributions installed here (as pandas).') from None
    pins = [f'{n}=={v}' for n, v in reqs.items()]
    platforms = [a for p in ('manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_24_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64',
                             'manylinux_2_12_x86_64', 'manylinux2010_x86_64', 'manylinux1_x86_64') for a in ('--platform', p)] # pip matches each exactly
    pip = [sys.executable, '-m', 'pip']
    try:
        with AtomicDir(out) as tmp:
            got = subprocess.run(pip + ['download', '--no-deps', '--only-binary=:all:', '--python-version', python, '--implementation', 'cp', *platforms, '-d', str(tmp), *pins],
                                 capture_output=True, text=True)
            if got.returncode: raise SystemExit(f"pip could not download the wheels for Python {python} ({(got.stderr.strip().splitlines() or ['no message'])[-1][:300]}): "
                                                "bundle where PyPI is reachable, for a Python its wheels are made for.")
            with tempfile.TemporaryDirectory() as src: # built from a copy: the build leaves nothing in the checkout, and takes nothing stale from it
                for n in ('setup.py', 'settings.ini', 'pyproject.toml', 'MANIFEST.in', 'README.md', 'LICENSE', 'huggingtweets'):
                    (shutil.copytree if (ROOT/n).is_dir() else shutil.copy2)(ROOT/n, Path(src)/n)
                subprocess.run(pip + ['wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp), src], check=True, capture_output=True)
            (tmp/'requirements.txt').write_text('\n'.join(pins) + '\n')
            size = sum(f.stat().st_size for f in tmp.iterdir())
            if size > BUNDLE_LIMIT:
                big = ', '.join(f'{f.name.split("-")[0]} {f.stat().st_size / 2**20:.1f}' for f in sorted(tmp.iterdir(), key=lambda f: -f.stat().st_size)[:3])
                raise SystemExit(f'The bundle would hold {size / 2**20:.1f} MiB, over the {BUNDLE_LIMIT >> 20} MiB a device call carries (MiB: {big}): '
                                 'leave out with --have what the GPU machine has (the lent ones have pandas).')
    except OSError as e: raise SystemExit(f'Cannot write the bundle in {folder} ({e.strerror}): give a new folder where you can write.') from None
    return install_line(folder)


def missing()->list[str]:
    "The modules of `NEEDED` this Python can't import (imported: a library whose own dependency is missing counts as missing)"
    def fails(m):
        try: importlib.import_module(m); return False
        except ImportError: return True
    return [m for m in NEEDED if fails(m)]


def wheels_advice(python:str=f'{sys.version_info.major}.{sys.version_info.minor}')->str:
    "How to bring what is missing to a machine without the network"
    return (f"On a machine online, in this checkout with huggingtweets installed: python bench/gpu_check.py --bundle .gpu/wheels --python-version {python} "
            f"--have pandas ({', '.join(BUNDLE)} and what they need beyond torch, transformers and pandas, and huggingtweets' own wheel: under {BUNDLE_LIMIT >> 20} MiB); "
            f"copy GPT-2's tokenizer files to .gpu/gpt2-tokenizer; carry .gpu; there: {install_line('.gpu/wheels')} && "
            "python bench/gpu_check.py --tokenizer .gpu/gpt2-tokenizer")


class Ctx:
    "What every check is given: where it runs, and at what size"
    def __init__(self, dry:bool, tokenizer:str|None, work:Path):
        import torch
        self.dry, self.tokenizer, self.work = dry, tokenizer, Path(work)
        self.cuda = torch.cuda.is_available() and not dry
        self.block, self.steps, self.compare = (32, 6, 8) if dry else (1024, 300, 30) # tokens a block; steps a timed run; steps compared

    def dataset(self):
        "The example account's dataset"
        from huggingtweets.demo import example_spec
        from huggingtweets.clean import prepare_all
        from huggingtweets.dataset import make_dataset
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return make_dataset(prepare_all([example_spec()], self.work/'data'), seed=0)

    def base(self, size:str='small', dropout:bool=True)->str:
        "A GPT-2 of `size` (small or xl; on the dry run a tiny one) at random, saved in the work folder"
        from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel
        from huggingtweets.train import make_tiny_model
        out = self.work/f'gpt2-{size}-{"drop" if dropout else "nodrop"}'
        if out.exists(): return str(out)
        if self.dry: make_tiny_model(out, texts=self.dataset().train_texts[:400], vocab_size=1024)
        else:
            tok = AutoTokenizer.from_pretrained(self.tokenizer)
            shape = dict(small=dict(n_embd=768, n_layer=12, n_head=12), xl=dict(n_embd=1600, n_layer=48, n_head=25))[size]
            import torch
            with torch.device('cuda' if self.cuda else 'cpu'): GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), **shape)).save_pretrained(out)
            tok.save_pretrained(out)
        if not dropout:
            from transformers import AutoModelForCausalLM
            m = AutoModelForCausalLM.from_pretrained(out, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
            m.save_pretrained(out)
        return str(out)

    def config(self, base:str, **kw):
        "The default `TrainConfig` at this size"
        from huggingtweets.train import TrainConfig
        return TrainConfig(**dict(base_model=base, block_size=self.block, max_steps=self.steps) | ({'loop': 'fast'} if self.dry else {}) | kw)


def result(status:str, detail:str, **figures)->dict: return dict(status=status, detail=detail, figures=figures)

def skip_on_cpu(ctx:Ctx, what:str)->dict|None:
    return result('SKIP', f'{what}: a GPU only') if not ctx.cuda else None


def check_loop(ctx:Ctx)->dict:
    "The default run takes the CUDA graph with no note, for the default and the masked objective"
    from huggingtweets.train import finetune
    ds, base, want = ctx.dataset(), ctx.base(), 'eager' if ctx.dry else 'cuda-graph'
    runs = {}
    for mask in (False, True):
        r = finetune(ds, ctx.config(base, mask_eot=mask, max_steps=ctx.compare), progress=False)[2]
        runs['masked' if mask else 'default'] = dict(loop=r.loop, note=r.loop_note, graph_check=r.graph_check, tokens_per_s=round(r.tokens_per_s))
    bad = {k: v for k, v in runs.items() if v['loop'] != want or v['note'] or (not ctx.dry and not v['graph_check'].startswith('passed: '))}
    return result('FAIL' if bad else 'PASS', f'{want}, no note' + ('' if ctx.dry else ', its first replay checked against eager') if not bad
                  else f'expected {want} with no note and a graph check passed: {bad}', **runs)


def check_flash(ctx:Ctx)->dict:
    "The attention of the training step is SDPA's flash kernel, forward and backward"
    import torch
    from torch.profiler import profile, ProfilerActivity
    from huggingtweets.train import load_base
    from huggingtweets.fastloop import causal_training, fused_gelu
    tok, m = load_base(ctx.base(dropout=ctx.cuda)) # a CPU's flash kernel takes no dropout
    dev = 'cuda' if ctx.cuda else 'cpu'
    m.to(dev).train()
    x = torch.randint(0, len(tok), (1, ctx.block), device=dev)
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if ctx.cuda else [])
    with causal_training(m, ctx.block), fused_gelu(m), profile(activities=acts) as prof:
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=ctx.cuda, cache_enabled=False): loss = m(input_ids=x, labels=x, use_cache=False).loss
        loss.backward()
        if ctx.cuda: torch.cuda.synchronize()
    names = {e.key for e in prof.key_averages()}
    flash = sorted(n for n in names if 'flash' in n.lower() and 'attention' in n.lower())
    other = sorted(n for n in names if any(k in n for k in ('_efficient_attention', '_attention_math', 'fmha_cutlass')))
    fwd, bwd = any('backward' not in n.lower() for n in flash), any('backward' in n.lower() for n in flash)
    ok = fwd and bwd and not other
    return result('PASS' if ok else 'FAIL', f"flash forward {fwd}, backward {bwd}; other attention: {other or 'none'}", flash=flash, other=other)


def check_syncs(ctx:Ctx)->dict:
    "No host synchronisation in a replayed step, beyond the logging steps"
    if s := skip_on_cpu(ctx, 'CUDA sync debug mode'): return s
    import torch, datasets
    from transformers import TrainerCallback
    from huggingtweets.train import load_base, tokenize
    from huggingtweets.fastloop import train_fast, causal_training, fused_gelu
    ds = ctx.dataset()
    tok, m = load_base(ctx.base())
    m.to('cuda')
    blocks = tokenize(ds.splits['train'], tok, ctx.block).with_format('torch')
    counts = dict(step=0, log=0)
    class Where(TrainerCallback):
        logging, step = False, 0
        def on_step_end(self, args, state, control, **kw): Where.step, Where.logging = state.global_step, state.global_step % args.logging_steps == 0
        def on_log(self, args, state, control, logs=None, **kw): Where.logging = False
    def seen(message, *a, **kw):
        if Where.step >= 4 and 'synchroniz' in str(message): counts['log' if Where.logging else 'step'] += 1 # from the first replay on
    torch.cuda.set_sync_debug_mode('warn')
    try:
        with warnings.catch_warnings(): # restores showwarning after
            warnings.simplefilter('always')
            warnings.showwarning = seen
            with causal_training(m, ctx.block), fused_gelu(m): r = train_fast(m, blocks, ctx.config(str(ctx.base()), max_steps=100), [Where()], precision='bf16')
    finally: torch.cuda.set_sync_debug_mode(0)
    per = counts['step'] / max(1, r.steps - 4)
    return result('PASS' if r.graph and counts['step'] == 0 else 'FAIL', f"{counts['step']} syncs outside logging in {r.steps - 4} replayed steps ({counts['log']} while logging)",
                  syncs_per_step=per, log_syncs=counts['log'], graph=r.graph)


def updates_callback(model):
    "A callback that keeps each step's loss, grad norm and the size of the update to one weight"
    from transformers import TrainerCallback
    class Updates(TrainerCallback):
        def __init__(self): self.w, self.sizes, self.logs = model.lm_head.weight, [], []
        def on_train_begin(self, args, state, control, **kw): self.last = self.w.detach().float().clone()
        def on_step_end(self, args, state, control, **kw):
            now = self.w.detach().float().clone()
            self.sizes.append((now - self.last).norm().item()); self.last = now
        def on_log(self, args, state, control, logs=None, **kw):
            if 'loss' in logs: self.logs.append((logs['loss'], logs['grad_norm']))
    return Updates()


def check_graph_vs_eager(ctx:Ctx)->dict:
    "Dropout off: the graph and the eager step agree step by step; the learning rate decays inside the graph"
    import torch
    from huggingtweets.train import load_base, tokenize, evaluate
    from huggingtweets.fastloop import train_fast, causal_training, fused_gelu
    ds = ctx.dataset()
    base = ctx.base(dropout=False)
    sides = {}
    for name, graph in (('graph', True), ('eager', False)):
        tok, m = load_base(base)
        m.to('cuda' if ctx.cuda else 'cpu')
        blocks = tokenize(ds.splits['train'], tok, ctx.block).with_format('torch')
        cb = updates_callback(m)
        cfg = ctx.config(base, max_steps=ctx.compare)
        with causal_training(m, ctx.block), fused_gelu(m):
            r = train_fast(m, blocks, cfg, [cb], precision='bf16' if ctx.cuda else 'fp32', graph=graph and ctx.cuda)
        sides[name] = dict(graph=r.graph, logs=cb.logs, sizes=cb.sizes, valid=evaluate(m, tok, ds.valid_texts, ctx.block).loss)
    g, e = sides['graph'], sides['eager']
    loss_dev = max(abs(a[0] - b[0]) / abs(b[0]) for a, b in zip(g['logs'], e['logs']))
    norm_dev = max(abs(a[1] - b[1]) / abs(b[1]) for a, b in zip(g['logs'], e['logs']))
    valid_dev = abs(g['valid'] - e['valid'])
    decay = g['sizes'][-1] / max(g['sizes'][:3]) # Adam's updates scale with the learning rate: cosine takes it near 0 by the last step
    ok = loss_dev <= 0.01 and norm_dev <= 0.05 and valid_dev <= 0.01 and decay < 0.1 and len(g['logs']) == len(e['logs']) == ctx.compare
    figures = dict(graph_ran=g['graph'], max_loss_deviation=loss_dev, max_grad_norm_deviation=norm_dev, valid_loss_delta=valid_dev, last_to_first_update=decay)
    detail = f"losses within {loss_dev:.2%}, grad norms within {norm_dev:.2%}, held-out within {valid_dev:.4f}, last update {decay:.3f} of the first ones"
    if ctx.cuda and not g['graph']: return result('FAIL', 'the graph did not run: ' + detail, **figures)
    return result('PASS' if ok else 'FAIL', detail, **figures)


def check_speed(ctx:Ctx)->dict:
    "The default run against the recipe (Trainer, fp32, batch 1, masked) and against Trainer in bf16: speed, and the held-out loss of the same objectives"
    import torch
    from huggingtweets.train import finetune
    ds, base = ctx.dataset(), ctx.base()
    sides = dict(recipe=dict(loop='trainer', precision='fp32', mask_eot=True), default={}, masked=dict(mask_eot=True), trainer_bf16=dict(loop='trainer', precision='bf16'))
    if ctx.dry: sides['trainer_bf16'] = dict(loop='trainer') # a CPU has no bf16 worth timing
    for kw in sides.values(): finetune(ds, ctx.config(base, max_steps=2 if ctx.dry else 10, **kw), progress=False) # the same untimed warm-up for every side
    out = {}
    for name, kw in sides.items():
        if ctx.cuda: torch.cuda.synchronize()
        t0 = time.perf_counter()
        r = finetune(ds, ctx.config(base, **kw), progress=False)[2]
        out[name] = dict(step_seconds=time.perf_counter() - t0 - r.eval_seconds, loop_seconds=r.seconds, tokens_per_s=r.tokens_per_s, text_loss=r.text_loss,
                         loop=r.loop)
    rec, d = out['recipe'], out['default']
    loop_x, step_x = rec['loop_seconds'] / d['loop_seconds'], rec['step_seconds'] / d['step_seconds']
    masked_delta, default_delta = abs(out['masked']['text_loss'] - rec['text_loss']), abs(d['text_loss'] - out['trainer_bf16']['text_loss'])
    figures = dict(sides=out, loop_speedup=loop_x, step_speedup=step_x, trainer_bf16_loop_speedup=rec['loop_seconds'] / out['trainer_bf16']['loop_seconds'],
                   masked_vs_recipe_text_loss=masked_delta, default_vs_trainer_bf16_text_loss=default_delta)
    detail = (f"loop {loop_x:.2f}x, step {step_x:.2f}x the recipe (Trainer bf16: {figures['trainer_bf16_loop_speedup']:.2f}x); text loss: masked vs recipe "
              f"{masked_delta:.3f}, default vs Trainer bf16 {default_delta:.3f}")
    if ctx.dry: return result('PASS', 'dry run (targets n/a on a CPU): ' + detail, **figures)
    if d['loop'] != 'cuda-graph': return result('FAIL', f"the default ran {d['loop']}, not the graph: targets n/a; " + detail, **figures)
    fast = loop_x >= 5 and step_x >= 3
    same = masked_delta <= 0.03 and default_delta <= 0.03
    return result('PASS' if fast and same else 'WARN' if same else 'FAIL', detail, **figures)


def check_memory(ctx:Ctx)->dict:
    "After `finetune` the GPU holds the weights alone; GPT-2 xl trains in its graph within 70 GB reserved, beside the app's estimate"
    if s := skip_on_cpu(ctx, 'GPU memory'): return s
    import gc, torch
    from huggingtweets.train import finetune
    from huggingtweets.lora import memory_estimate
    ds = ctx.dataset()
    tok, model, r = finetune(ds, ctx.config(ctx.base(), max_steps=20), progress=False)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    left = torch.cuda.memory_allocated()
    del model; gc.collect(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    xl = ctx.base('xl')
    tok, model, rx = finetune(ds, ctx.config(xl, max_steps=12), progress=False)
    peak, reserved, est = torch.cuda.max_memory_allocated(), torch.cuda.max_memory_reserved(), memory_estimate(xl, ctx.block)['full']
    gb = lambda b: round(b / 2**30, 2)
    ok = left <= 1.1 * weights + (64 << 20) and reserved <= 70 * 2**30 and rx.loop == 'cuda-graph'
    return result('PASS' if ok else 'FAIL', f"after finetune {gb(left)} GB held for {gb(weights)} GB of weights; GPT-2 xl ({rx.loop}): peak {gb(peak)} GB, "
                  f"reserved {gb(reserved)} GB, estimate {gb(est)} GB", small_after_gb=gb(left), small_weights_gb=gb(weights), xl_peak_gb=gb(peak),
                  xl_reserved_gb=gb(reserved), xl_estimate_gb=gb(est), xl_loop=rx.loop)


def check_fallback(ctx:Ctx)->dict:
    "A capture made to fail: the eager fallback finishes, the stream and the generator are healthy, the next run captures"
    if s := skip_on_cpu(ctx, 'CUDA graph capture'): return s
    import torch
    from huggingtweets import train
    ds, base = ctx.dataset(), ctx.base()
    real = train.load_base
    def failing(*a, **kw): # a model whose forward syncs with the host while a stream captures: the capture fails
        tok, m = real(*a, **kw)
        def hook(mod, args):
            if torch.cuda.is_current_stream_capturing(): torch.zeros(1, device='cuda').item()
        m.register_forward_pre_hook(hook)
        return tok, m
    train.load_base = failing
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tok, m, r = train.finetune(ds, ctx.config(base, max_steps=10), progress=False)
    finally: train.load_base = real
    stream_ok = torch.cuda.current_stream() == torch.cuda.default_stream()
    m.train()
    x = torch.randint(0, len(tok), (2, 32), device='cuda')
    try: m(input_ids=x, labels=x).loss.backward(); dropout_ok = True
    except RuntimeError as e: dropout_ok, err = False, str(e)
    weights = sum(p.numel() * p.element_size() for p in m.parameters())
    import gc
    gc.collect(); torch.cuda.empty_cache()
    held = torch.cuda.memory_reserved() # the failed capture's pool released: the model's weights and little else
    pool_ok = held <= 1.5 * weights + (256 << 20)
    again = train.finetune(ds, ctx.config(base, max_steps=10), progress=False)[2]
    ok = r.loop == 'eager' and r.loop_note.startswith('capturing the step failed') and stream_ok and dropout_ok and pool_ok and again.loop == 'cuda-graph'
    return result('PASS' if ok else 'FAIL', f"fell back to {r.loop} ({r.loop_note[:80]}); default stream {stream_ok}; dropout {'works' if dropout_ok else 'fails: ' + err[:80]}; "
                  f"{held / 2**30:.2f} GB held for {weights / 2**30:.2f} GB of weights; next run {again.loop}", held_bytes=held, weights_bytes=weights, loop=r.loop, note=r.loop_note, stream_restored=stream_ok, dropout_works=dropout_ok, next_loop=again.loop)


CHECKS = dict(loop=check_loop, flash=check_flash, syncs=check_syncs, graph_vs_eager=check_graph_vs_eager, speed=check_speed, memory=check_memory,
              fallback=check_fallback)


def run_one(name:str, args)->dict:
    "Run check `name` in its own process; its result"
    with tempfile.NamedTemporaryFile(suffix='.json') as f:
        cmd = [sys.executable, __file__, '--only', name, '--result', f.name, '--work', args.work] + (['--cpu-dry-run'] if args.cpu_dry_run else []) + \
              (['--tokenizer', args.tokenizer] if args.tokenizer else [])
        t0, limit = time.perf_counter(), min(args.timeout, max(1, args.deadline - (time.perf_counter() - args.started)))
        try: p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired: return result('FAIL', f'the check took more than {limit:.0f} s', seconds=round(limit, 1))
        secs = time.perf_counter() - t0
        if p.returncode != 0 or not Path(f.name).stat().st_size:
            return result('FAIL', f'the check crashed (exit {p.returncode}): ' + ' | '.join(p.stderr.strip().splitlines()[-3:]), seconds=secs)
        r = json.loads(Path(f.name).read_text())
    r['figures']['seconds'] = round(secs, 1)
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cpu-dry-run', action='store_true', help="run every check's code on the CPU at tiny sizes; the GPU-only ones SKIP")
    ap.add_argument('--wheels', action='store_true', help='say what this Python lacks for the check, and how to bring it')
    ap.add_argument('--bundle', metavar='DIR', default=None, help='online: download into DIR the wheels the check needs beyond torch and transformers, and build huggingtweets\' own')
    ap.add_argument('--python-version', default=f'{sys.version_info.major}.{sys.version_info.minor}', help="the GPU machine's Python, for --bundle (default: this one's)")
    ap.add_argument('--have', default='', help='for --bundle: distributions the GPU machine has beside torch and transformers, comma-separated, left out (as pandas)')
    ap.add_argument('--tokenizer', default=None, help="a folder with GPT-2's tokenizer (the GPU run)")
    ap.add_argument('--out', default='gpu_check.json', help='where to write the figures')
    ap.add_argument('--checks', default=','.join(CHECKS), help='which checks, comma-separated')
    ap.add_argument('--timeout', type=int, default=240, help='seconds a check may take')
    ap.add_argument('--deadline', type=int, default=470, help='seconds for all the checks: those left when it passes SKIP')
    ap.add_argument('--work', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--only', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--result', default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.only: # one check, in this process
        os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
        r = CHECKS[args.only](Ctx(args.cpu_dry_run, args.tokenizer, Path(args.work)))
        Path(args.result).write_text(json.dumps(r, default=float))
        return 0
    if args.bundle:
        line = make_bundle(args.bundle, args.python_version, tuple(n for n in args.have.split(',') if n))
        size = sum(f.stat().st_size for f in Path(args.bundle).iterdir())
        print(f'{len(list(Path(args.bundle).glob("*.whl")))} wheels, {size / 2**20:.1f} MiB, in {args.bundle}. Carry it to the GPU machine; there, with no network:\n{line}')
        return 0
    if lack := missing():
        print(f"This Python lacks {', '.join(lack)}. {wheels_advice()}")
        return 2
    if args.wheels: print('Nothing is missing.'); return 0
    import torch
    if not args.cpu_dry_run and not torch.cuda.is_available():
        print('No CUDA GPU is visible: run it on a GPU machine, or with --cpu-dry-run here.'); return 2
    if not args.cpu_dry_run and not (args.tokenizer and Path(args.tokenizer, 'tokenizer.json').exists()):
        print("Give GPT-2's tokenizer with --tokenizer DIR (its tokenizer.json and tokenizer_config.json). " + wheels_advice()); return 2
    device = 'cpu (dry run)' if args.cpu_dry_run else f'{torch.cuda.get_device_name()}, torch {torch.__version__}'
    print(f'gpu_check on {device}')
    results, t0 = {}, time.perf_counter()
    args.started = t0
    with tempfile.TemporaryDirectory() as work:
        args.work = work
        for name in args.checks.split(','):
            if time.perf_counter() - t0 > args.deadline - 5: r = results[name] = result('SKIP', f'out of time: the deadline is {args.deadline} s')
            else: r = results[name] = run_one(name, args)
            print(f"{r['status']:<5} {name}: {r['detail']} ({r['figures'].get('seconds', 0):.0f} s)", flush=True)
            Path(args.out).write_text(json.dumps(dict(device=device, seconds=round(time.perf_counter() - t0, 1), results=results), indent=1, default=float)) # after each: a killed run keeps what it measured
    bad = [n for n, r in results.items() if r['status'] == 'FAIL']
    count = {k: sum(r['status'] == k for r in results.values()) for k in ('PASS', 'WARN', 'FAIL', 'SKIP')}
    print('gpu_check: ' + ', '.join(f'{k} {v}' for k, v in count.items()) + f'; figures in {args.out}')
    return 1 if bad else 0


if __name__ == '__main__': sys.exit(main())
