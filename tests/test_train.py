import json, math
from pathlib import Path
import pytest
from transformers import AutoTokenizer, TrainerCallback, pipeline
from huggingtweets.clean import curate, EOT
from huggingtweets.dataset import make_dataset
from huggingtweets.sources import Account, Post, UserError
from huggingtweets.train import TrainConfig, finetune, make_tiny_model, tokenize_text, valid_loss, load_base
from huggingtweets.generate import generate, load_model
from util import shared, sample_tweets


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp('tiny')/'gpt2', texts=sample_tweets(200))


@pytest.fixture(scope='module')
def ds():
    return make_dataset([curate(Account('jack', 'x', [Post(t) for t in sample_tweets(300)], 'Jack'))], epochs=2, seed=0, min_chars=100)


def cfg(tiny, **kw): return TrainConfig(str(tiny), **{'block_size': 64, 'learning_rate': 3e-3, **kw})


def test_finetune_learns_and_saves_a_pipeline_folder(tiny, ds, tmp_path):
    tok, base = load_base(str(tiny))
    before = valid_loss(base, tok, ds.valid, 64)
    res = finetune(ds, tmp_path/'m', cfg(tiny), progress=False)
    assert res.valid_loss < before - 0.5  # it learned the held-out posts' style
    assert res.perplexity == pytest.approx(math.exp(res.valid_loss))
    assert res.tokens == res.steps * 64 and res.device == 'cpu'
    gen = pipeline('text-generation', model=str(tmp_path/'m'))
    g = gen.model.generation_config
    assert (g.do_sample, g.top_p, g.temperature, g.max_length, g.min_length) == (True, 0.95, 1.0, 160, 10)
    assert gen.model.config.task_specific_params['text-generation']['prefix'] == EOT
    out = gen('My dream is', num_return_sequences=2, max_length=30)
    assert len(out) == 2 and all(o['generated_text'].startswith('My dream is') for o in out)


def test_failed_run_keeps_the_old_model(tiny, ds, tmp_path):
    finetune(ds, tmp_path/'m', cfg(tiny, max_steps=2), progress=False)
    before = (tmp_path/'m'/'model.safetensors').read_bytes()

    class Boom(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 2: raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(ds, tmp_path/'m', cfg(tiny, max_steps=10), callbacks=[Boom()], progress=False)
    assert (tmp_path/'m'/'model.safetensors').read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m']  # no temporary folder left

    def fail(folder, res): raise RuntimeError('disk full')
    with pytest.raises(RuntimeError):
        finetune(ds, tmp_path/'m', cfg(tiny, max_steps=2), before_save=fail, progress=False)
    assert (tmp_path/'m'/'model.safetensors').read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m']


def test_seeded_training_is_reproducible(tiny, ds, tmp_path):
    a = finetune(ds, tmp_path/'a', cfg(tiny, max_steps=5), progress=False)
    b = finetune(ds, tmp_path/'b', cfg(tiny, max_steps=5), progress=False)
    assert a.valid_loss == pytest.approx(b.valid_loss, abs=1e-6)


def test_bad_base_model_is_a_clear_error(ds, tmp_path):
    with pytest.raises(UserError, match='Could not load the base model'):
        finetune(ds, tmp_path/'m', TrainConfig(str(tmp_path/'nope')), progress=False)
    assert not (tmp_path/'m').exists()


def test_cuda_asked_without_gpu(tiny, ds, tmp_path):
    import torch
    if torch.cuda.is_available(): pytest.skip('a GPU is here')
    with pytest.raises(UserError, match='No CUDA GPU'):
        finetune(ds, tmp_path/'m', cfg(tiny, device='cuda'), progress=False)


def test_generate_cuts_at_newline_and_batches(tiny, ds, tmp_path):
    finetune(ds, tmp_path/'m', cfg(tiny, max_steps=3), progress=False)
    preds = generate(tmp_path/'m', 'My dream is', n=10, seed=0, max_length=40)
    assert len(preds) == 10 and all('\n' not in p and p.startswith('My dream is') for p in preds)


def test_tokenize_text_matches_the_real_gpt2_tokenizer():
    tok = AutoTokenizer.from_pretrained(shared('gpt2-tokenizer'))
    texts = ['Hello world', 'émojis 🤖 and &amp; stuff', ' leading space', 'trailing  ', 'x' * 50]
    text = EOT + EOT.join(texts * 3) + EOT
    assert tokenize_text(tok, text) == tok(text)['input_ids']


@pytest.mark.parametrize('fast, loop', [(True, 'eager'), (False, 'trainer')])
def test_both_loops_learn(tiny, ds, tmp_path, fast, loop):
    "The default fast loop (eager on a CPU) and the original's Trainer loop both learn the held-out posts"
    tok, base = load_base(str(tiny))
    before = valid_loss(base, tok, ds.valid, 64)
    res = finetune(ds, tmp_path/'m', cfg(tiny, fast=fast, max_steps=30), progress=False)
    assert res.loop == loop and res.steps == 30
    assert res.valid_loss < before - 0.5


def test_fast_loop_drives_callbacks(tiny, ds, tmp_path):
    seen = []
    class Watch(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw): seen.append(('begin', state.max_steps))
        def on_step_end(self, args, state, control, **kw): seen.append(('step', state.global_step))
        def on_log(self, args, state, control, logs=None, **kw): seen.append(('log', sorted(logs)))
    finetune(ds, tmp_path/'m', cfg(tiny, max_steps=4), callbacks=[Watch()], progress=False)
    assert seen[0] == ('begin', 4) and [s for k, s in seen if k == 'step'] == [1, 2, 3, 4]
    assert ('log', ['epoch', 'learning_rate', 'loss']) in seen and seen[-1] == ('log', ['perplexity', 'valid_loss'])


def _llama(tmp_path, eos):
    "A tiny Llama-style model whose tokenizer ends texts with `eos` (or has no end-of-text token at all)"
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(sample_tweets(200), vocab_size=400, min_frequency=1, special_tokens=[eos] if eos else [])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, **({'eos_token': eos} if eos else {}))
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                 num_key_value_heads=2, max_position_embeddings=128)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    return tmp_path


@pytest.mark.parametrize('eos', ['</s>', None])
def test_other_causal_lms(ds, tmp_path, eos):
    base = _llama(tmp_path/'base', eos)
    res = finetune(ds, tmp_path/'m', TrainConfig(str(base), block_size=64, max_steps=3), progress=False)
    tok, model = load_model(tmp_path/'m')
    assert tok.eos_token == (eos or EOT) and model.config.prefix == tok.eos_token
    preds = generate((tok, model), 'My dream is', n=3, seed=0, max_length=30)
    assert all(p.startswith('My dream is') and 'endoftext' not in p for p in preds)


def test_fast_base_uses_the_fused_gelu_and_computes_the_same(tiny):
    import torch
    _, slow = load_base(str(tiny))
    _, fast = load_base(str(tiny), fast=True)
    assert type(fast.transformer.h[0].mlp.act).__name__ == 'GELUTanh' and fast.config.activation_function == 'gelu_pytorch_tanh'
    x = torch.randint(0, slow.config.vocab_size, (2, 32))
    slow.eval(); fast.eval()
    with torch.no_grad(): torch.testing.assert_close(fast(x).logits, slow(x).logits, atol=1e-4, rtol=1e-4)
