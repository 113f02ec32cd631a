import math, re, warnings
from pathlib import Path
from unittest import mock
import pytest
import torch
from transformers import AutoTokenizer, TrainerCallback, pipeline
from huggingtweets.core import Account, Post, UserError, EOT, AtomicDir
from huggingtweets.clean import curate
from huggingtweets.dataset import make_dataset
from huggingtweets.train import TrainConfig, finetune, make_tiny_model, post_ids, tokenize, evaluate, load_base, save_model, device_and_precision
from huggingtweets.generate import generate, load_model
from huggingtweets import fastloop
from util import shared, sample_tweets

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp('tiny')/'gpt2', texts=sample_tweets(200))


@pytest.fixture(scope='module')
def ds():
    return make_dataset([curate(Account('jack', 'x', [Post(t) for t in sample_tweets(300)], 'Jack'))], epochs=2, seed=0, min_chars=100)


def cfg(tiny, **kw): return TrainConfig(str(tiny), **{'block_size': 64, 'learning_rate': 3e-3, **kw})


def saved(tok, model, folder):
    with AtomicDir(folder) as tmp: save_model(tok, model, tmp)
    return folder


def test_finetune_learns_and_saves_a_pipeline_folder(tiny, ds, tmp_path):
    tok, model, res = finetune(ds, cfg(tiny), progress=False)
    assert res.valid_loss < res.base_valid_loss - 0.5  # it learned the held-out posts' style
    tok0, base = load_base(str(tiny))
    assert res.base_valid_loss == pytest.approx(evaluate(base, tok0, ds.valid_texts, 64).loss)  # measured before training
    assert res.perplexity == pytest.approx(math.exp(res.valid_loss)) and res.text_loss is not None
    assert res.tokens == res.steps * 64 and res.device == 'cpu' and res.loop == 'trainer'
    gen = pipeline('text-generation', model=str(saved(tok, model, tmp_path/'m')))
    g = gen.model.generation_config
    assert (g.do_sample, g.top_p, g.temperature, g.max_length, g.min_length) == (True, 0.95, 1.0, 160, 10)
    assert gen.model.config.task_specific_params['text-generation']['prefix'] == EOT
    out = gen('My dream is', num_return_sequences=2, max_length=30)
    assert len(out) == 2 and all(o['generated_text'].startswith('My dream is') for o in out)


def test_seeded_training_is_reproducible(tiny, ds):
    a = finetune(ds, cfg(tiny, max_steps=5), progress=False)[2]
    b = finetune(ds, cfg(tiny, max_steps=5), progress=False)[2]
    assert a.valid_loss == pytest.approx(b.valid_loss, abs=1e-6)


def test_bad_base_model_is_a_clear_error(ds, tmp_path):
    with pytest.raises(UserError, match='No model folder at'):
        finetune(ds, TrainConfig(str(tmp_path/'nope')), progress=False)
    (tmp_path/'empty').mkdir()
    with pytest.raises(UserError, match='not a model folder'):
        finetune(ds, TrainConfig(str(tmp_path/'empty')), progress=False)


@pytest.mark.parametrize('kw, says', [(dict(block_size=0), 'block_size must be at least 2'), (dict(batch_size=0), 'batch_size must be at least 1'),
                                      (dict(learning_rate=float('nan')), 'learning_rate must be a positive number'), (dict(epochs=0), 'epochs must be a positive'),
                                      (dict(max_steps=0), 'max_steps must be -1'), (dict(precision='fp8'), 'precision must be')])
def test_settings_that_cannot_train(kw, says):
    with pytest.raises(UserError, match=says): TrainConfig(**kw)


def test_cuda_asked_without_gpu(tiny, ds):
    if torch.cuda.is_available(): pytest.skip('a GPU is here')
    with pytest.raises(UserError, match='No CUDA GPU'):
        finetune(ds, cfg(tiny, device='cuda'), progress=False)


def test_emulated_bf16_is_not_bf16():
    "A T4 or a V100 only emulates bf16: they train in fp16 with Trainer, not in the bf16 graph"
    def bf16(including_emulation=True): return including_emulation  # an emulating GPU
    with mock.patch('torch.cuda.is_available', lambda: True), mock.patch('torch.cuda.is_bf16_supported', bf16):
        assert device_and_precision(TrainConfig()) == ('cuda', 'fp16')
    with mock.patch('torch.cuda.is_available', lambda: True), mock.patch('torch.cuda.is_bf16_supported', lambda including_emulation=True: True):
        assert device_and_precision(TrainConfig()) == ('cuda', 'bf16')
    assert device_and_precision(TrainConfig(device='cpu')) == ('cpu', 'fp32')


def test_generate_cuts_at_newline_and_batches(tiny, ds, tmp_path):
    tok, model, _ = finetune(ds, cfg(tiny, max_steps=3), progress=False)
    preds = generate(saved(tok, model, tmp_path/'m'), 'My dream is', n=10, seed=0, max_length=40, batch_size=4)
    assert len(preds) == 10 and all('\n' not in p and p.startswith('My dream is') for p in preds)


def test_post_ids_match_the_real_gpt2_tokenizer():
    import datasets
    tok = AutoTokenizer.from_pretrained(shared('gpt2-tokenizer'))
    texts = ['Hello world', 'émojis 🤖 and &amp; stuff', ' leading space', 'trailing  ', 'x' * 50] * 3
    whole = tok(EOT + EOT.join(texts) + EOT)['input_ids']
    assert post_ids(tok, texts) == whole
    blocks = tokenize(datasets.Dataset.from_dict({'text': texts}), tok, 16)
    assert [t for b in blocks['input_ids'] for t in b] == whole[:len(whole) // 16 * 16]  # the original's TextDataset: only the last partial block goes


def test_mask_eot_masks_only_end_of_text_labels(tiny, ds):
    import datasets
    tok = AutoTokenizer.from_pretrained(tiny)
    b = tokenize(datasets.Dataset.from_dict({'text': ds.train_texts[:50]}), tok, 32, mask_eot=True)
    for ids, labels in zip(b['input_ids'], b['labels']):
        assert [l for i, l in zip(ids, labels) if i == tok.eos_token_id] == [-100] * ids.count(tok.eos_token_id)
        assert [l for i, l in zip(ids, labels) if i != tok.eos_token_id] == [i for i in ids if i != tok.eos_token_id]
    res = finetune(ds, cfg(tiny, max_steps=5, mask_eot=True), progress=False)[2]
    assert res.config['mask_eot'] is True and res.valid_loss is not None


def test_trainer_drives_callbacks_and_stops(tiny, ds):
    seen = []
    class Watch(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw): seen.append(('begin', state.max_steps))
        def on_step_end(self, args, state, control, **kw):
            seen.append(('step', state.global_step))
            if state.global_step == 3: control.should_training_stop = True
        def on_log(self, args, state, control, logs=None, **kw): seen.append(('log', sorted(logs)))
    res = finetune(ds, cfg(tiny, max_steps=6), callbacks=[Watch()], progress=False)[2]
    assert seen[0] == ('begin', 6) and [s for k, s in seen if k == 'step'] == [1, 2, 3] and res.steps == 3
    assert any(k == 'log' and {'loss', 'grad_norm', 'learning_rate'} <= set(v) for k, v in seen)


def test_progress_lines_when_not_a_terminal(tiny, ds, capsys):
    finetune(ds, cfg(tiny, max_steps=4), progress='lines')
    err = capsys.readouterr().err
    assert 'step 4/4 · loss ' in err and 'tokens/s' in err and ' left' in err
    assert 'loss_type' not in err and "{'loss'" not in err  # no stray notice, no log dicts


def _llama(tmp_path, eos):
    "A tiny Llama-style model whose tokenizer ends texts with `eos` (or has no end-of-text token at all)"
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(sample_tweets(200), vocab_size=400, min_frequency=1, special_tokens=[eos] if eos else [])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, **({'eos_token': eos} if eos else {}))
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                 num_key_value_heads=1, max_position_embeddings=128)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    return tmp_path


@pytest.mark.parametrize('eos', ['</s>', None])
def test_other_causal_lms(ds, tmp_path, eos):
    base = _llama(tmp_path/'base', eos)
    tok, model, res = finetune(ds, TrainConfig(str(base), block_size=64, max_steps=3), progress=False)
    tok, model = load_model(saved(tok, model, tmp_path/'m'))
    assert tok.eos_token == (eos or EOT) and model.config.prefix == tok.eos_token
    preds = generate((tok, model), 'My dream is', n=3, seed=0, max_length=30)
    assert all(p.startswith('My dream is') and 'endoftext' not in p for p in preds)


def test_causal_attention_with_grouped_heads_matches_sdpa(tmp_path):
    "The training-only attention (is_causal, no mask) computes what SDPA with transformers' mask does, for grouped-query heads too"
    _, m = load_base(str(_llama(tmp_path/'base', '</s>')))
    m.set_attn_implementation('sdpa'); m.eval()
    x = torch.randint(0, m.config.vocab_size, (2, 24))
    with torch.no_grad():
        want = m(input_ids=x, use_cache=False).logits
        with fastloop.causal_training(m): got = m(input_ids=x, use_cache=False).logits
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert m.config._attn_implementation == 'sdpa'


def test_fused_gelu_computes_the_same_and_is_undone(tiny):
    _, m = load_base(str(tiny))
    m.eval()
    x = torch.randint(0, m.config.vocab_size, (2, 32))
    with torch.no_grad():
        slow = m(x).logits
        with fastloop.fused_gelu(m):
            assert type(m.transformer.h[0].mlp.act).__name__ == 'GELUTanh'
            fast = m(x).logits
    torch.testing.assert_close(fast, slow, atol=1e-4, rtol=1e-4)
    assert type(m.transformer.h[0].mlp.act).__name__ == 'NewGELUActivation' and m.config.activation_function == 'gelu_new'


class _FakeCuda:
    "What `_capture` touches of torch.cuda, on a CPU: the current stream, a generator whose state a capture marks, the allocator's pool"
    def __init__(self, exit_error=None):
        self.calls, self.exit_error, self.current, outer = [], exit_error, 'main stream', self
        class Gen:
            def clone_state(self): outer.calls.append('clone'); return 'state before'
            def graphsafe_set_state(self, s): outer.calls.append(('restore generator', s))
        class Graph:
            def replay(self): pass
        class Capture:
            def __init__(self, g, pool=None, stream=None): outer.pool = pool
            def __enter__(self): outer.calls.append('capture'); outer.current = 'side stream'; return self
            def __exit__(self, *exc): # as torch.cuda.graph does: when capture_end fails, the side stream stays current and the pool captures on
                if outer.exit_error: raise outer.exit_error
                outer.current = 'main stream'
        def set_stream(st): self.calls.append(('set stream', st)); self.current = st
        self.patches = [mock.patch('torch.cuda.CUDAGraph', Graph), mock.patch('torch.cuda.graph', Capture), mock.patch('torch.cuda.graph_pool_handle', lambda: 'pool'),
                        mock.patch('torch.cuda.current_stream', lambda: self.current), mock.patch('torch.cuda.current_device', lambda: 0),
                        mock.patch('torch.cuda.set_stream', set_stream), mock.patch('torch.cuda.default_generators', (Gen(),)),
                        mock.patch('torch.cuda.memory._cuda_endAllocateToPool', lambda d, p: self.calls.append(('end pool', d, p))),
                        mock.patch('torch.cuda.memory._cuda_releasePool', lambda d, p: self.calls.append(('release pool', d, p)))]
    def __enter__(self):
        for p in self.patches: p.start()
        return self
    def __exit__(self, *exc):
        for p in self.patches: p.stop()


def test_a_failed_capture_reports_the_steps_own_error_and_restores_the_process():
    "An error inside the captured step is what is reported, not the error that ending a broken capture raises; the stream, the allocator's pool and the generator are left as before the capture"
    def step(): raise ValueError('a host sync in the forward')
    with _FakeCuda(RuntimeError('CUDA error: operation failed due to a previous error during capture')) as c:
        g, out, err = fastloop._capture(step, None)
    assert g is None and isinstance(err, ValueError) and 'host sync' in str(err) and err.__traceback__ is None
    assert c.calls == ['clone', 'capture', ('set stream', 'main stream'), ('end pool', 0, 'pool'), ('release pool', 0, 'pool'),
                       ('restore generator', 'state before')], c.calls
    assert c.pool == 'pool' and c.current == 'main stream'
    with _FakeCuda(RuntimeError('capture_end failed')) as c:
        g, out, err = fastloop._capture(lambda: 1, None)
    assert isinstance(err, RuntimeError) and ('release pool', 0, 'pool') in c.calls  # a capture that fails by itself reports that
    with _FakeCuda() as c:
        g, out, err = fastloop._capture(lambda: 1, None)
    assert g is not None and out == 1 and err is None and c.calls == ['clone', 'capture']  # a capture that works changes nothing



def _fake_capture(model, kind):
    """A capture for a CPU, where nothing captures: its graph's replay runs the step eagerly ('right'); or as a graph that kept the inputs it
    was captured with would, on the batch of the step before ('stale batch'); or it steps the optimizer and then puts the weights back, as a
    graph that stepped copies of them would ('weights put back')"""
    last = {}
    def hook(mod, args, kwargs): # remembers each training step's batch; a stale replay trains on the one before
        if kind == 'stale batch' and last.get('replaying'): return args, kwargs | dict(input_ids=last['x'], labels=last['y'])
        if torch.is_grad_enabled(): last.update(x=kwargs['input_ids'].clone(), y=kwargs['labels'].clone())
    model.register_forward_pre_hook(hook, with_kwargs=True)
    class Graph:
        def __init__(self, step, out): self.step, self.out, self.replays = step, out, 0
        def replay(self):
            self.replays += 1
            kept = [p.detach().clone() for p in model.parameters()]
            model.zero_grad(set_to_none=True) # a graph's backward writes its gradients afresh
            last['replaying'] = True
            try: loss, norm = self.step()
            finally: last['replaying'] = False
            self.out[0].copy_(loss); self.out[1].copy_(norm)
            if kind == 'weights put back':
                with torch.no_grad():
                    for p, k in zip(model.parameters(), kept): p.copy_(k)
    def capture(step, side):
        out = (torch.zeros(()), torch.zeros(()))
        capture.graph = Graph(step, out)
        return capture.graph, out, None
    return capture


def _graph_run(tiny, blocks, kind=None, steps=8):
    "The fast loop on a CPU: with the fake `kind` of graph, or never capturing (None); its result and final weights"
    torch.manual_seed(0)
    m = load_base(str(tiny))[1]
    logs = _Logs()
    r = fastloop.train_fast(m, blocks, cfg(tiny, max_steps=steps), [logs], graph=kind is not None, capture=kind and _fake_capture(m, kind))
    return r, {k: v.detach().clone() for k, v in m.state_dict().items()}, logs.seen


@pytest.mark.parametrize('kind', ['right', 'stale batch', 'weights put back'])
def test_the_graphs_first_replay_is_checked(tiny, ds, kind, monkeypatch):
    """Right after the capture, the first replay is checked against eager computation on the same batch and weights: a replay that agrees trains on;
    one that trains on stale inputs or leaves the weights as they were is dropped, and the run goes on eagerly from that step, to the same weights as a run that never captured"""
    import datasets
    blocks = tokenize(datasets.Dataset.from_dict({'text': ds.train_texts}), AutoTokenizer.from_pretrained(tiny), 64)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        r, weights, logs = _graph_run(tiny, blocks, kind)
    e, eager, eager_logs = _graph_run(tiny, blocks)
    assert (e.graph, e.check, e.note) == (False, '', '') and r.steps == e.steps == 8
    for k in eager: assert torch.equal(weights[k], eager[k]), k  # nothing lost, no step taken twice, the same dropout drawn
    assert logs == eager_logs
    if kind == 'right':
        assert r.graph and r.note == '' and r.check.startswith("passed: its loss ") and 'moved the weights' in r.check and not seen
        real = fastloop.train_fast
        monkeypatch.setattr(fastloop, 'train_fast', lambda model, *a, **kw: real(model, *a, **kw, graph=True, capture=_fake_capture(model, kind)))
        res = finetune(ds, cfg(tiny, max_steps=5, loop='fast'), progress=False)[2]
        assert (res.loop, res.loop_note) == ('cuda-graph', '') and res.graph_check.startswith('passed: its loss ')  # the record says it was checked
        return
    why = ("its loss .* is not eager's .* on the same batch and weights \\(it trains on stale inputs or stale weights\\)" if kind == 'stale batch'
           else 'it left the weights as they were \\(it steps no optimizer, or copies of the weights\\)')
    assert not r.graph and re.fullmatch('failed: ' + why, r.check), r.check
    assert re.fullmatch(f"the CUDA graph's first replay disagreed with eager computation: {why}; it trained eagerly from step 4", r.note), r.note
    assert [str(w.message) for w in seen] == [f'Training without a CUDA graph: {r.note}.']


def test_the_check_puts_everything_back_where_the_replay_was_wrong(tiny):
    "A replay that changes the weights, the optimizer's state and the random generator, but counts two steps: all are put back as they were"
    m = load_base(str(tiny))[1]
    params = [p for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-2)
    x = torch.randint(0, m.config.vocab_size, (1, 16))
    def step():
        opt.zero_grad(); loss = m(input_ids=x, labels=x).loss; loss.backward(); opt.step(); return loss.detach(), None
    step()
    before = [t.clone() for t in params + [t for p in params for t in opt.state[p].values()]]
    rng = torch.get_rng_state()
    class TwoSteps:
        def replay(self): out[0].copy_(step()[0]); step()
    out = (torch.zeros(()),)
    m.train()
    ok, why = fastloop.checked_replay(TwoSteps(), out, lambda: m(input_ids=x, labels=x).loss, params, opt)
    assert not ok and why == "it moved the optimizer's step count from 1 to 3, not by one", why
    after = params + [t for p in params for t in opt.state[p].values()]
    assert all(torch.equal(a, b) for a, b in zip(after, before)) and torch.equal(torch.get_rng_state(), rng)
    ok, why = fastloop.checked_replay(type('One', (), dict(replay=lambda self: out[0].copy_(step()[0])))(), out, lambda: m(input_ids=x, labels=x).loss, params, opt)
    assert ok and float(opt.state[params[-1]]['step']) == 2, why  # a replay that is the step: kept


def _no_dropout(tiny, tmp_path):
    "`tiny` saved again with every dropout off"
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(tiny, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    m.save_pretrained(tmp_path); AutoTokenizer.from_pretrained(tiny).save_pretrained(tmp_path)
    return tmp_path


class _Logs(TrainerCallback):
    def __init__(self): self.seen = []
    def on_log(self, args, state, control, logs=None, **kw):
        if 'loss' in logs: self.seen.append((state.global_step, logs['loss'], logs['grad_norm'], logs['learning_rate']))


def _odd_block(tiny, ds):
    "A block size that cuts the training split into an odd number of blocks: a batch of 2 leaves a short one each epoch"
    import datasets
    tok = AutoTokenizer.from_pretrained(tiny)
    return next(b for b in range(64, 40, -1) if len(tokenize(datasets.Dataset.from_dict({'text': ds.train_texts}), tok, b)) % 2)


@pytest.mark.parametrize('mask_eot, batch', [(False, 1), (True, 1), (False, 2)])
def test_fast_loop_and_trainer_agree_step_by_step(tiny, ds, tmp_path, mask_eot, batch):
    "Through `finetune`, dropout off, the same seed: the same blocks in the same order, the same loss, gradient norm and learning rate at every step; with a batch of 2 over 2 epochs of an odd number of blocks, the short batches too"
    base = _no_dropout(tiny, tmp_path/'base')
    kw = dict(max_steps=12) if batch == 1 else dict(batch_size=2, epochs=2, block_size=_odd_block(tiny, ds))
    runs = {}
    for loop in ('fast', 'trainer'):
        logs = _Logs()
        runs[loop] = logs, finetune(ds, cfg(base, loop=loop, mask_eot=mask_eot, **kw), [logs], progress=False)
    (fast, (_, fm, fr)), (slow, (_, sm, sr)) = runs['fast'], runs['trainer']
    assert (fr.loop, sr.loop, fr.steps) == ('eager', 'trainer', sr.steps) and (batch == 2 or fr.steps == 12) and len(fast.seen) == len(slow.seen) >= 12
    assert [s[0] for s in fast.seen] == [s[0] for s in slow.seen]
    for a, b in zip(fast.seen, slow.seen): assert a == pytest.approx(b, rel=1e-4), (a, b)
    assert fr.valid_loss == pytest.approx(sr.valid_loss, rel=1e-4) and fr.train_loss == pytest.approx(sr.train_loss, rel=1e-4)
    torch.testing.assert_close(fm.lm_head.weight, sm.lm_head.weight, atol=1e-5, rtol=1e-4)


def test_the_loop_is_fed_what_finetune_builds(tiny, ds):
    "`train_fast` takes the dataset `tokenize` makes in the torch format (whose columns are lazy `Column`s, not tensors) as it is"
    import datasets
    blocks = tokenize(datasets.Dataset.from_dict({'text': ds.train_texts}), AutoTokenizer.from_pretrained(tiny), 64).with_format('torch')
    assert not isinstance(blocks['input_ids'], torch.Tensor)  # what broke the GPU path: a `datasets.Column`
    r = fastloop.train_fast(load_base(str(tiny))[1], blocks, cfg(tiny, max_steps=4))
    assert (r.steps, r.graph, r.note) == (4, False, '') and math.isfinite(r.train_loss)
    class StopAt2(TrainerCallback):
        def on_step_end(self, args, state, control, **kw): control.should_training_stop = state.global_step == 2
    r = fastloop.train_fast(load_base(str(tiny))[1], blocks, cfg(tiny, max_steps=50), [StopAt2()])  # stopped between two logs: logged all the same
    assert r.steps == 2 and r.log_history[-1]['step'] == 2 and r.log_history[-1]['learning_rate'] > 0
    r = fastloop.train_fast(load_base(str(tiny))[1], blocks, cfg(tiny, max_steps=3), graph=True)  # too short for a graph: says why
    assert not r.graph and r.note == 'the run has 3 steps, and the graph is captured after 3 eager ones'


def test_epoch_order_is_trainers():
    "Epoch e is shuffled with seed + e, as accelerate's seedable sampler does; a batch that would be short is filled with the masked row `n`"
    want = torch.cat([torch.cat([torch.randperm(7, generator=torch.Generator().manual_seed(42 + e)), torch.tensor([7])]) for e in range(2)])
    assert torch.equal(fastloop.epoch_order(7, 2, 8, 42), want)


@pytest.mark.parametrize('loop', ['fast', 'trainer'])
def test_out_of_memory_anywhere_is_one_sentence(tiny, ds, loop):
    class Boom(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 2: raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB')
    with pytest.raises(UserError, match=r'ran out of memory while training .*: lower the batch size \(1\) or the block size \(64\), train a LoRA'):
        finetune(ds, cfg(tiny, max_steps=5, loop=loop), [Boom()], progress=False)


def test_attention_is_swapped_only_where_it_computes_the_same(tmp_path, tiny):
    "GPT-2 and a Llama attend as the fast attention does; a sliding window shorter than the block, or a softcap, keep the model's own"
    from transformers import Gemma2Config, Gemma2ForCausalLM, MistralConfig, MistralForCausalLM
    small = dict(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    models = dict(gpt2=load_base(str(tiny))[1], llama=load_base(str(_llama(tmp_path/'llama', '</s>')))[1],
                  mistral_window=MistralForCausalLM(MistralConfig(sliding_window=8, **small)), mistral=MistralForCausalLM(MistralConfig(sliding_window=None, **small)),
                  gemma2=Gemma2ForCausalLM(Gemma2Config(sliding_window=8, attn_logit_softcapping=50.0, **small)))
    swapped = {}
    for name, m in models.items():
        m.set_attn_implementation('sdpa' if name != 'gemma2' else 'eager'); m.eval()
        x = torch.randint(0, 300, (2, 24))
        with torch.no_grad():
            want = m(input_ids=x, use_cache=False).logits
            with fastloop.causal_training(m, 24) as swapped[name]: got = m(input_ids=x, use_cache=False).logits
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert swapped == dict(gpt2=True, llama=True, mistral_window=False, mistral=True, gemma2=False), swapped
    assert fastloop.plain_attention(models['gemma2'], 24) == 'a sliding window of 8 tokens'
    assert fastloop.plain_attention(Gemma2Config(sliding_window=4096, **small), 1024) == 'a softcap on the attention scores'
    assert fastloop.plain_attention(MistralConfig(sliding_window=4096, **small)) == 'a sliding window of 4096 tokens'  # no block given: any length
    from transformers import Qwen2Config, Llama4TextConfig
    assert fastloop.plain_attention(Qwen2Config(use_sliding_window=True, sliding_window=8, max_window_layers=2, **small), 24) == ''  # every layer full
    assert fastloop.plain_attention(Llama4TextConfig(attention_chunk_size=8), 24) == 'attention in chunks of 8 tokens'
    q = torch.randn(1, 2, 24, 16)
    with pytest.raises(ValueError, match='sliding window'): fastloop.causal_attention(None, q, q, q, sliding_window=8)


def test_the_gpu_settings_a_cpu_can_check(monkeypatch):
    "bf16 asked of a GPU that only emulates it is refused; under torchrun the process binds its own GPU before anything asks CUDA; one process on several GPUs trains on one"
    from transformers import TrainingArguments
    from huggingtweets.train import bind_gpu, _one_gpu
    calls = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda *a: 'Tesla T4')
    monkeypatch.setattr(torch.cuda, 'set_device', lambda i: calls.append(('bind', i)))
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    def bf16(including_emulation=True): calls.append('bf16?'); return including_emulation
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', bf16)
    with pytest.raises(UserError, match=r'This GPU \(Tesla T4\) only emulates bf16, slowly: leave the precision at auto \(fp16 there\), or choose fp32'):
        device_and_precision(TrainConfig(precision='bf16'))
    monkeypatch.setenv('WORLD_SIZE', '2'); monkeypatch.setenv('LOCAL_RANK', '1'); calls.clear()
    with pytest.raises(UserError, match='only emulates'): finetune(None, TrainConfig(precision='bf16'), progress=False)
    assert calls == [('bind', 1), 'bf16?'], calls
    monkeypatch.delenv('WORLD_SIZE'); monkeypatch.delenv('LOCAL_RANK')
    args = TrainingArguments('unused', use_cpu=True, report_to='none')
    args._n_gpu = 2  # as on a box with two GPUs and no torchrun
    assert _one_gpu(args, 1) == 'trained on one of 2 GPUs: launch with `torchrun --nproc_per_node 2` to train on all of them' and args.n_gpu == 1
    args._n_gpu = 2
    assert _one_gpu(args, 2) == '' and args.n_gpu == 2  # torchrun: each process has its own


# On a GPU: the graph and the eager loop take the same steps, and dropout is drawn fresh on every replay.

@cuda
def test_graph_and_eager_losses_agree(tiny, ds):
    import datasets
    tok = AutoTokenizer.from_pretrained(tiny)
    blocks = tokenize(datasets.Dataset.from_dict({'text': ds.train_texts}), tok, 64).with_format('torch')
    def run(graph):
        torch.manual_seed(0)
        _, m = load_base(str(tiny))
        for d in m.modules():
            if isinstance(d, torch.nn.Dropout): d.p = 0.0
        m.to('cuda')
        with fastloop.causal_training(m), fastloop.fused_gelu(m):
            return fastloop.train_fast(m, blocks, cfg(tiny, max_steps=12), precision='bf16', graph=graph)
    g, e = run(True), run(False)
    assert g.graph and not e.graph
    assert [h['loss'] for h in g.log_history] == pytest.approx([h['loss'] for h in e.log_history], rel=2e-2)


@cuda
def test_replays_draw_fresh_dropout(tiny):
    _, m = load_base(str(tiny))
    m.to('cuda')
    x = torch.randint(0, m.config.vocab_size, (1, 64))
    losses = []
    class Record(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw): losses.append(logs['loss'])
    with fastloop.causal_training(m):
        import datasets
        r = fastloop.train_fast(m, datasets.Dataset.from_dict({'input_ids': x.repeat(8, 1), 'labels': x.repeat(8, 1)}), cfg(tiny, max_steps=8, learning_rate=1e-12), [Record()], precision='bf16')
    # with logging every step (8 steps -> logging_steps 1) and a learning rate of ~0 on one input, the losses differ only by dropout
    assert r.graph and len(set(round(l, 6) for l in losses[4:])) > 1


@cuda
def test_finetune_on_a_gpu_uses_the_graph_and_frees_the_optimizer(tiny, ds):
    torch.cuda.reset_peak_memory_stats()
    tok, model, res = finetune(ds, cfg(tiny, max_steps=10), progress=False)
    assert res.loop == 'cuda-graph' and not res.loop_note
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    assert torch.cuda.memory_allocated() < 3 * params + (64 << 20)  # no AdamW state (2x the weights) left behind


def test_a_graph_that_fails_its_check_is_reported_everywhere(tiny, ds, tmp_path, monkeypatch):
    "Through the whole pipeline: the summary, the record (the one that goes to the Hub beside the card) and W&B's summary say the graph was dropped, and why"
    import json
    from util import wandb_env
    from wandb_offline import read_offline_run
    from huggingtweets.pipeline import train_and_publish
    from huggingtweets.record import ModelRecord, RECORD
    from huggingtweets.cli import report
    wandb_env(monkeypatch, tmp_path)
    real = fastloop.train_fast
    monkeypatch.setattr(fastloop, 'train_fast', lambda model, *a, **kw: real(model, *a, **kw, graph=True, capture=_fake_capture(model, 'stale batch')))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        r = train_and_publish(ds, tmp_path/'models'/ds.name, cfg(tiny, max_steps=6, loop='fast'), wandb='offline', data_dir=tmp_path/'data', n=1, memo_n=2,
                              progress=False, wandb_dir=tmp_path/'runs')
    note = r.train.loop_note
    assert note.startswith("the CUDA graph's first replay disagreed with eager computation: its loss ") and note.endswith('; it trained eagerly from step 4')
    assert f'Training without a CUDA graph: {note}.' in [str(w.message) for w in seen]
    assert (r.train.loop, r.train.graph_check) == ('eager', 'failed: ' + note.split(': ', 1)[1].rsplit('; it trained', 1)[0])
    assert f'Note on the loop (eager): {note}' in report(r)
    rec = json.loads((r.folder/RECORD).read_text(encoding='utf-8'))['train']
    assert (rec['loop'], rec['loop_note'], rec['graph_check']) == ('eager', note, r.train.graph_check) 
    t = ModelRecord.load(r.folder).train
    assert (t.loop, t.loop_note, t.graph_check) == ('eager', note, r.train.graph_check)
    summary = read_offline_run(r.wandb_dirs[1])['summary']
    assert (summary['loop'], summary['loop_note'], summary['graph_check']) == ('eager', note, r.train.graph_check)

# Broken model folders, built from a tiny model as a user's would be: one sentence each, nothing loaded from a pickle

class Pwn:
    "What a hostile pickle holds: unpickled, it would write a file"
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.write_text, (Path(self.path), 'pwned'))


def broken(tiny, tmp_path, kind):
    "A copy of `tiny`, broken as `kind` says"
    import json, shutil
    from safetensors.torch import load_file
    d = Path(shutil.copytree(tiny, tmp_path/kind))
    cfg = json.loads((d/'config.json').read_text())
    if kind == 'shapes': cfg['n_embd'] = 32
    if kind == 'layers': cfg['n_layer'] = 4
    if kind == 'vocab': cfg['vocab_size'] = 10**12
    if kind == 'vocab-negative': cfg['vocab_size'] = -5
    if kind == 'vocab-text': cfg['vocab_size'] = '50257'
    if kind == 'types': cfg['n_layer'] = 'two'
    if kind == 'huge': cfg['n_embd'] = 10**9
    if kind == 'not-an-object': cfg = []
    (d/'config.json').write_text(json.dumps(cfg))
    if kind in ('pickle', 'pickle-hostile'):
        sd = load_file(d/'model.safetensors')
        (d/'model.safetensors').unlink()
        torch.save(sd if kind == 'pickle' else {'x': Pwn(tmp_path/'PWNED')}, d/'pytorch_model.bin')
    return d


@pytest.mark.parametrize('kind,says', [('shapes', 'do not match its config.json'), ('layers', 'weights it describes are missing'),
                                       ('vocab', 'vocab_size is 1000000000000, which no model has'), ('vocab-negative', 'vocab_size is -5'),
                                       ('vocab-text', 'vocab_size is 50257, which'), ('types', "Validation error for field 'n_layer'"), ('huge', 'whose sizes no model can have'), ('not-an-object', 'not a JSON object'), ('pickle', 'convert it to safetensors'), ('pickle-hostile', 'convert it to safetensors')])
def test_broken_model_folders_are_one_sentence(tiny, tmp_path, kind, says, capsys):
    "Loading as a base, loading to generate, and the command line: one sentence saying what is wrong and what to do; a pickle never unpickled"
    from huggingtweets.cli import main
    d = broken(tiny, tmp_path, kind)
    for load in (load_base, load_model):
        with pytest.raises(UserError, match=says) as e: load(str(d))
        assert '\n' not in str(e.value)
    capsys.readouterr()
    assert main(['generate', str(d), '-n', '1']) == 1
    err = capsys.readouterr().err
    assert says in err and err.count('\n') == 1 and 'Traceback' not in err, err
    assert not (tmp_path/'PWNED').exists()
    if kind == 'pickle':  # the sentence's own command converts it, and the folder loads
        import re, subprocess, sys
        cmd = re.search(r'`python -c "(.*)"`', err)[1]
        subprocess.run([sys.executable, '-c', cmd], check=True, capture_output=True)
        (d/'pytorch_model.bin').unlink()
        assert load_model(str(d))[1].config.n_embd == 64
