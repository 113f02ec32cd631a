import math
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


def test_a_failed_capture_reports_the_steps_own_error():
    "An error inside the captured step is what is reported, not the error that ending a broken capture raises"
    class Graph:
        def replay(self): pass
    class Capture:
        def __init__(self, g, stream=None): pass
        def __enter__(self): return self
        def __exit__(self, *exc): raise RuntimeError('CUDA error: operation failed due to a previous error during capture')
    def step(): raise ValueError('a host sync in the forward')
    with mock.patch('torch.cuda.CUDAGraph', Graph), mock.patch('torch.cuda.graph', Capture):
        g, out, err = fastloop._capture(step, None)
    assert g is None and isinstance(err, ValueError) and 'host sync' in str(err)
    with mock.patch('torch.cuda.CUDAGraph', Graph), mock.patch('torch.cuda.graph', Capture):
        g, out, err = fastloop._capture(lambda: 1, None)
    assert isinstance(err, RuntimeError)  # a capture that fails by itself reports that


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
            return fastloop.train_graphed(m, blocks['input_ids'], blocks['labels'], cfg(tiny, max_steps=12, precision='bf16'), graph=graph)
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
        r = fastloop.train_graphed(m, x.repeat(8, 1), x.repeat(8, 1), cfg(tiny, max_steps=8, learning_rate=1e-12, precision='bf16'), [Record()])
    # with logging every step (8 steps -> logging_steps 1) and a learning rate of ~0 on one input, the losses differ only by dropout
    assert r.graph and len(set(round(l, 6) for l in losses[4:])) > 1


@cuda
def test_finetune_on_a_gpu_uses_the_graph_and_frees_the_optimizer(tiny, ds):
    torch.cuda.reset_peak_memory_stats()
    tok, model, res = finetune(ds, cfg(tiny, max_steps=10), progress=False)
    assert res.loop == 'cuda-graph' and not res.loop_note
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    assert torch.cuda.memory_allocated() < 3 * params + (64 << 20)  # no AdamW state (2x the weights) left behind
