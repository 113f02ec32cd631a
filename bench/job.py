"""One timed train step, run in its own process by bench.py: `python bench/job.py SPEC.json`.

The spec names what to run:
* `recipe`: the original's recipe, `upstream_recipe.py` loaded from where it lies (../shared/bench) and
  run with `argv`, exactly as `python upstream_recipe.py ARGV` runs it;
* `huggingtweets`: `finetune` on a dataset folder, then `save_model` into an `AtomicDir`, as the pipeline
  saves; the default `TrainConfig` except `base_model`, `device`, `seed`, `max_steps` and `mask_eot`
  (True: the recipe's masking of the end-of-text labels); optionally a random GPT-2 of a given size is
  built and saved first, outside the timing (the throughput runs).

Both are timed the same way. Torch, transformers and the Trainer classes are imported, and CUDA is
initialised, before the clock starts; the clock stops when the model folder is saved. The held-out
evaluations that both run inside that span (the recipe's `valid_loss`; `finetune`'s `evaluate`, of the
base and of the tuned model) are timed apart and taken out: `step_seconds` is load the base, tokenize,
any compile or capture, train, save. The loop's own time (`loop_seconds`) is what the recipe prints and
what `finetune` returns. Peak GPU memory is `torch.cuda.max_memory_allocated()` over the whole step
(`peak_gpu_mem_bytes`) and over the step without the evaluations (`peak_gpu_mem_train_bytes`: the
training's own). The result is written as JSON to `spec['result']`.
"""
import importlib.util, json, os, random, sys, time
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1])) # this checkout's huggingtweets, installed or not


def _libraries():
    "What both steps import before the clock starts"
    import torch, transformers
    from transformers import (AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel, Trainer,
                              TrainingArguments, DataCollatorForLanguageModeling)
    return torch


def _warm_up(torch):
    "The same untimed CUDA warm-up for every side: cuBLAS in fp32 and bf16, and SDPA forward and backward, once each"
    for dtype in (torch.float32, torch.bfloat16):
        a = torch.randn(1024, 1024, device='cuda', dtype=dtype, requires_grad=True)
        (a @ a).sum().backward()
        q = torch.randn(1, 12, 1024, 64, device='cuda', dtype=torch.bfloat16, requires_grad=True)
        torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True).sum().backward()
    torch.cuda.synchronize()


class _TimedEval:
    """Wraps an evaluation function: times its calls, and keeps the peak GPU memory outside them apart from the peak
    inside (the peak statistics are read before each call and reset after it)"""
    def __init__(self, fn, torch):
        self.fn, self.torch, self.seconds, self.calls = fn, torch, 0.0, 0
        self.cuda = torch.cuda.is_available()
        self.peak_outside, self.peak_inside, self.reserved = 0, 0, 0 # allocated outside and inside; reserved over all
    def _sync(self):
        if self.cuda: self.torch.cuda.synchronize()
    def __call__(self, *args, **kwargs):
        self._sync()
        if self.cuda:
            self.peak_outside = max(self.peak_outside, self.torch.cuda.max_memory_allocated())
            self.reserved = max(self.reserved, self.torch.cuda.max_memory_reserved())
            self.torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        try: return self.fn(*args, **kwargs)
        finally:
            self._sync()
            self.seconds += time.perf_counter() - t
            self.calls += 1
            if self.cuda:
                self.peak_inside = max(self.peak_inside, self.torch.cuda.max_memory_allocated())
                self.reserved = max(self.reserved, self.torch.cuda.max_memory_reserved())
                self.torch.cuda.reset_peak_memory_stats()
    def peaks(self)->tuple[int, int]:
        "(the whole step's peak, the peak outside the evaluations), read at the end of the step"
        end = self.torch.cuda.max_memory_allocated()
        return max(self.peak_inside, self.peak_outside, end), max(self.peak_outside, end)


def _load_recipe(path):
    spec = importlib.util.spec_from_file_location('upstream_recipe', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _make_random(spec, torch):
    "Save a randomly initialised GPT-2 of the given size, with the tokenizer, to `spec['model_dir']`"
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel
    tok = AutoTokenizer.from_pretrained(spec['tokenizer'])
    cfg = GPT2Config(vocab_size=len(tok), bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, **spec['make_random'])
    torch.manual_seed(spec.get('seed', 0))
    dev = 'cuda' if spec['device'] == 'cuda' else 'cpu'
    with torch.device(dev): model = GPT2LMHeadModel(cfg)
    model.save_pretrained(spec['model_dir'])
    tok.save_pretrained(spec['model_dir'])
    n = sum(p.numel() for p in model.parameters())
    del model
    if dev == 'cuda': torch.cuda.empty_cache()
    return n


def gen_latency(folder, device, n, prompt, repeats, max_length=None):
    "Seconds of the 10-prediction step: cold (load the folder + generate), then warm (the median of `repeats`)"
    import torch
    from huggingtweets.generate import load_model, generate
    kw = dict(max_length=max_length) if max_length else {}
    def sync():
        if device == 'cuda': torch.cuda.synchronize()
    t = time.perf_counter()
    pair = load_model(folder, device)
    generate(pair, prompt, n, seed=0, **kw)
    sync()
    cold = time.perf_counter() - t
    warm = []
    for i in range(repeats):
        t = time.perf_counter()
        generate(pair, prompt, n, seed=i + 1, **kw)
        sync()
        warm.append(time.perf_counter() - t)
    warm.sort()
    return dict(cold_seconds=round(cold, 3), warm_seconds=round(warm[len(warm) // 2], 3) if warm else None,
                n=n, prompt=prompt, max_length=max_length or 'stored default')


def run(spec:dict)->dict:
    "Run one step as `spec` says and return its measures (also written to `spec['result']` when given)"
    torch = _libraries()
    cuda = spec['device'] == 'cuda'
    if cuda: torch.cuda.init(); _warm_up(torch)
    res = dict(kind=spec['kind'], label=spec.get('label', spec['kind']))
    if spec.get('make_random'): res['params'] = _make_random(spec, torch)
    if spec['kind'] == 'recipe':
        mod = _load_recipe(spec['recipe'])
        timed = _TimedEval(mod.valid_loss, torch)
        mod.valid_loss = timed
    else:
        import huggingtweets.train as ht_train
        from huggingtweets.core import AtomicDir
        from huggingtweets.dataset import load_dataset
        timed = _TimedEval(ht_train.evaluate, torch) # `finetune` looks `evaluate` up in its module at each call
        ht_train.evaluate = timed
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    try:
        t0 = time.perf_counter()
        if spec['kind'] == 'recipe':
            # the recipe draws Trainer's seed from the unseeded `random`: seed it so that runs repeat
            random.seed(spec.get('seed', 0))
            argv = sys.argv
            sys.argv = [spec['recipe']] + spec['argv']
            try: mod.main()
            finally: sys.argv = argv
        else:
            ds = load_dataset(spec['dataset'])
            cfg = ht_train.TrainConfig(base_model=spec['base'], device=spec['device'], seed=spec.get('seed', 42),
                                       max_steps=spec.get('max_steps', -1), mask_eot=spec.get('mask_eot', False), loop=spec.get('loop', 'auto'),
                                       precision=spec.get('precision', 'auto'))
            tok, model, tr = ht_train.finetune(ds, cfg, progress=False)
            with AtomicDir(spec['model_out']) as folder: ht_train.save_model(tok, model, folder, cfg) # as the pipeline saves
        if cuda: torch.cuda.synchronize()
        total = time.perf_counter() - t0
    finally:
        if spec['kind'] == 'recipe': mod.valid_loss = timed.fn
        else: ht_train.evaluate = timed.fn
    if spec['kind'] == 'recipe':
        out = json.load(open(spec['recipe_json']))
        res.update(loop_seconds=out['seconds'], tokens=out['tokens'], steps=out['steps'], train_loss=out['train_loss'],
                   valid_loss=out.get('valid_loss'), loop='trainer', loop_note='the original recipe: Trainer, fp32, batch 1',
                   mask_eot=True, model_dir=spec['model_out']) # its collator masks <|endoftext|> labels (pad = eos)
    else:
        res.update(loop_seconds=tr.seconds, tokens=tr.tokens, steps=tr.steps, train_loss=tr.train_loss, valid_loss=tr.valid_loss,
                   text_loss=tr.text_loss, base_valid_loss=tr.base_valid_loss, loop=tr.loop, loop_note=tr.loop_note,
                   mask_eot=cfg.mask_eot, model_dir=spec['model_out'], train_config=tr.config)
    peak, peak_train = timed.peaks() if cuda else (None, None)
    res.update(step_seconds=total - timed.seconds, eval_seconds=timed.seconds, eval_calls=timed.calls, eval_timed_apart=timed.calls > 0,
               tokens_per_s=res['tokens'] / res['loop_seconds'] if res['loop_seconds'] else None,
               peak_gpu_mem_bytes=peak, peak_gpu_mem_train_bytes=peak_train, peak_gpu_reserved_bytes=max(timed.reserved, torch.cuda.max_memory_reserved()) if cuda else None, device=torch.cuda.get_device_name() if cuda else 'cpu')
    if spec.get('gen_latency'):
        g = spec['gen_latency']
        res["gen_latency"] = gen_latency(res['model_dir'], spec['device'], g.get('n', 10), g.get('prompt', 'My dream is'),
                                          g.get('repeats', 3), g.get('max_length'))
    if spec.get('result'): Path(spec['result']).write_text(json.dumps(res, indent=2))
    return res


if __name__ == '__main__':
    run(json.loads(Path(sys.argv[1]).read_text()))
