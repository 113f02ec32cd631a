"""One timed train step, run in its own process by bench.py: `python bench/job.py SPEC.json`.

The spec names what to run:
* `recipe`: the original's recipe, `upstream_recipe.py` loaded from where it lies (../shared/bench) and
  run with `argv`, exactly as `python upstream_recipe.py ARGV` runs it;
* `huggingtweets`: `huggingtweets.train.finetune` on a dataset folder, with its default `TrainConfig`
  except `base_model`, `device`, `seed` and `max_steps`; optionally a random GPT-2 of a given size is
  built and saved first, outside the timing (the throughput runs).

Both are timed the same way. Torch, transformers and the Trainer classes are imported, and CUDA is
initialised, before the clock starts; the clock stops when the model folder is saved. The held-out
evaluation that both run inside that span is timed apart (its `valid_loss` is wrapped) and taken out:
`step_seconds` is load the base, tokenize, any compile or capture, train, save. The loop's own time
(`loop_seconds`) is what the recipe prints and what `finetune` returns. Peak GPU memory is
`torch.cuda.max_memory_allocated()` over the step. The result is written as JSON to `spec['result']`.
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


class _TimedEval:
    "Wraps a `valid_loss` function: times its calls, and notes the peak memory before the first"
    def __init__(self, fn, torch):
        self.fn, self.torch, self.seconds, self.calls, self.peak_before = fn, torch, 0.0, 0, None
    def _sync(self):
        if self.torch.cuda.is_available(): self.torch.cuda.synchronize()
    def __call__(self, *args, **kwargs):
        self._sync()
        if self.calls == 0 and self.torch.cuda.is_available(): self.peak_before = self.torch.cuda.max_memory_allocated()
        t = time.perf_counter()
        try: return self.fn(*args, **kwargs)
        finally:
            self._sync()
            self.seconds += time.perf_counter() - t
            self.calls += 1


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
    if cuda: torch.cuda.init()
    res = dict(kind=spec['kind'], label=spec.get('label', spec['kind']))
    if spec.get('make_random'): res['params'] = _make_random(spec, torch)
    if spec['kind'] == 'recipe':
        mod = _load_recipe(spec['recipe'])
        timed = _TimedEval(mod.valid_loss, torch)
        mod.valid_loss = timed
    else:
        import huggingtweets.train as ht_train
        from huggingtweets.dataset import load_dataset
        timed = _TimedEval(ht_train.valid_loss, torch)
        ht_train.valid_loss = timed
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
                                       max_steps=spec.get('max_steps', -1))
            tr = ht_train.finetune(ds, spec['model_out'], cfg, progress=False)
        if cuda: torch.cuda.synchronize()
        total = time.perf_counter() - t0
    finally:
        if spec['kind'] == 'recipe': mod.valid_loss = timed.fn
        else: ht_train.valid_loss = timed.fn
    if spec['kind'] == 'recipe':
        out = json.load(open(spec['recipe_json']))
        res.update(loop_seconds=out['seconds'], tokens=out['tokens'], steps=out['steps'], train_loss=out['train_loss'],
                   valid_loss=out.get('valid_loss'), model_dir=spec['model_out'])
    else:
        res.update(loop_seconds=tr.seconds, tokens=tr.tokens, steps=tr.steps, train_loss=tr.train_loss,
                   valid_loss=tr.valid_loss, model_dir=str(tr.model_dir), train_config=tr.config)
    res.update(step_seconds=total - timed.seconds, eval_seconds=timed.seconds, eval_timed_apart=timed.calls > 0,
               tokens_per_s=res['tokens'] / res['loop_seconds'] if res['loop_seconds'] else None,
               peak_gpu_mem_bytes=torch.cuda.max_memory_allocated() if cuda else None,
               peak_gpu_mem_train_bytes=(timed.peak_before if timed.peak_before is not None else torch.cuda.max_memory_allocated()) if cuda else None,
               device=torch.cuda.get_device_name() if cuda else 'cpu')
    if spec.get('gen_latency'):
        g = spec['gen_latency']
        res["gen_latency"] = gen_latency(res['model_dir'], spec['device'], g.get('n', 10), g.get('prompt', 'My dream is'),
                                          g.get('repeats', 3), g.get('max_length'))
    if spec.get('result'): Path(spec['result']).write_text(json.dumps(res, indent=2))
    return res


if __name__ == '__main__':
    run(json.loads(Path(sys.argv[1]).read_text()))
