"Bigger bases, more processes, more posts: LoRA on Llama-shaped models, torchrun with two processes, update on newer posts, sweeps."
import json, os, subprocess, sys
from contextlib import contextmanager
from pathlib import Path
import pytest
import torch
from huggingface_hub import ModelCard
from huggingtweets.core import Account, Post, UserError, EOT, AtomicDir
from huggingtweets.clean import curate, prepare
from huggingtweets.dataset import make_dataset
from huggingtweets.train import TrainConfig, finetune, save_model, make_tiny_model
from huggingtweets.record import ModelRecord, LocalRecord
from huggingtweets.dataset import load_dataset
from huggingtweets import pipeline as pl, track, lora
from util import sample_tweets
from test_train import _llama

ENV = dict(os.environ, WANDB_MODE='offline', WANDB_SILENT='true', HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')


@pytest.fixture(scope='module')
def ds():
    return make_dataset([curate(Account('jack', 'x', [Post(t) for t in sample_tweets(300)], 'Jack'))], epochs=2, seed=0, min_chars=100)


@pytest.fixture(scope='module')
def llama(tmp_path_factory): return _llama(tmp_path_factory.mktemp('llama')/'base', '</s>')


def test_lora_on_a_llama_trains_only_adapters_and_merges(ds, llama, tmp_path):
    cfg = TrainConfig(str(llama), block_size=64, max_steps=8, learning_rate=1e-2, lora=True, lora_r=4)
    tok, model, res = finetune(ds, cfg, progress=False)
    assert lora.is_peft(model) and res.valid_loss < res.base_valid_loss  # the adapters learned
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all('lora_' in n for n in trainable)
    with AtomicDir(tmp_path/'m') as f: save_model(tok, model, f, cfg)
    from transformers import pipeline
    assert not (tmp_path/'m'/'adapter_config.json').exists()  # merged: an ordinary model folder
    out = pipeline('text-generation', model=str(tmp_path/'m'))('My dream is', max_length=20, num_return_sequences=2)
    assert len(out) == 2


def test_lora_adapter_kept_alone(ds, llama, tmp_path):
    cfg = TrainConfig(str(llama), block_size=64, max_steps=3, lora=True, lora_r=4, merge_lora=False)
    tok, model, res = finetune(ds, cfg, progress=False)
    with AtomicDir(tmp_path/'m') as f: save_model(tok, model, f, cfg)
    a = json.loads((tmp_path/'m'/'adapter_config.json').read_text())
    assert a['base_model_name_or_path'] == 'base' and str(llama.parent) not in (tmp_path/'m'/'adapter_config.json').read_text()  # a local base by name only
    assert sum(f.stat().st_size for f in (tmp_path/'m').iterdir()) < 2 * sum(f.stat().st_size for f in llama.iterdir())
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    m = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(llama), tmp_path/'m')
    assert m(input_ids=torch.tensor([[1, 2, 3]])).logits.shape[-1] == m.config.vocab_size


def test_lora_run_card_and_cli(tmp_path, llama):
    from huggingtweets.cli import main
    (tmp_path/'jack.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    rc = main(['run', f'file:{tmp_path}/jack.txt', '--data-dir', str(tmp_path/'data'), '--base-model', str(llama), '--out', str(tmp_path/'m'),
               '--block-size', '64', '--max-steps', '3', '--lora', '--lora-r', '4', '--no-merge-lora', '--wandb', 'disabled', '-n', '2', '--memo-n', '2'])
    assert rc == 0
    card = ModelCard.load(tmp_path/'m'/'README.md')
    assert card.data.library_name == 'peft' and 'AutoPeftModelForCausalLM' in card.content and 'LoRA, rank 4' in card.content
    assert ModelRecord.load(tmp_path/'m').train.config['lora'] is True
    # the adapter folder generates (on its local base, which the hidden local record names in full) and pushes like any model folder
    assert main(['generate', str(tmp_path/'m'), 'My dream is', '-n', '2', '--no-copies', '--seed', '0']) == 0
    from huggingtweets.generate import generate
    assert len(generate(tmp_path/'m', 'My dream is', n=2, seed=0, max_length=24)) == 2
    from test_hub import FakeApi
    from huggingtweets.hub import PushTo
    api = FakeApi()
    assert pl.publish(tmp_path/'m', PushTo('alice/jack', token='hf_x', api=api)) == 'https://huggingface.co/alice/jack'
    assert 'adapter_config.json' in api.uploaded and "AutoPeftModelForCausalLM.from_pretrained('alice/jack')" in api.uploaded['README.md'].decode()


@pytest.mark.parametrize('kw, says', [(dict(load_4bit=True), 'add --lora'), (dict(lora_r=0), 'lora_r must be at least 1')])
def test_lora_settings_that_cannot_train(kw, says):
    with pytest.raises(UserError, match=says): TrainConfig(**kw)


def test_qlora_needs_a_gpu(ds, llama):
    if torch.cuda.is_available(): pytest.skip('a GPU is here')
    with pytest.raises(UserError, match='needs a CUDA GPU'): finetune(ds, TrainConfig(str(llama), lora=True, load_4bit=True), progress=False)


def test_memory_estimate_chooses_lora_when_full_does_not_fit(llama):
    est = lora.memory_estimate(str(llama), block_size=64)
    assert est['full'] > est['lora'] > est['qlora'] > 0
    assert lora.choose_lora(est, 10 * est['full'])[0] == 'full'
    plan, why = lora.choose_lora(est, int(est['lora'] * 1.5))
    assert plan == 'lora' and 'training a LoRA instead' in why


def torchrun(tmp_path, *args, port=29577):
    return subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', str(port), '-m', 'huggingtweets', *map(str, args)],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)


def test_torchrun_two_processes_train_and_update(tmp_path):
    "Data-parallel on the CPU with gloo: the first process fetches, writes and tracks; both train; `update` the same way"
    tiny = make_tiny_model(tmp_path/'tiny')
    f = tmp_path/'jack.txt'
    f.write_text(''.join(f'Thinking about robots and tea again today, day {i} of writing things down\n' for i in range(300)))
    r = torchrun(tmp_path, 'train', f'file:{f}', '--base-model', tiny, '--block-size', '64', '--max-steps', '4', '--memo-n', '2',
                 '--data-dir', tmp_path/'data', '--out', tmp_path/'m')
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count('Fetching file:') == 1 and 'x 2 processes' in r.stdout  # one speaker
    rec = ModelRecord.load(tmp_path/'m')
    assert rec.train.processes == 2 and rec.train.tokens == 4 * 64 * 2
    assert len(list((tmp_path/'wandb').glob('offline-run-*'))) == 2  # preprocess and train, by the first process only
    with open(f, 'a') as fh: fh.write(''.join(f'A brand new post number {i} about the garden and the bread\n' for i in range(40)))
    r = torchrun(tmp_path, 'update', tmp_path/'m', '--memo-n', '2', '-n', '1')
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count('Version 2:') == 1 and 'x 2 processes' in r.stdout
    assert ModelRecord.load(tmp_path/'m').version == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.m')) == []


def test_fsdp_two_processes_saves_the_whole_model(tmp_path):
    "FSDP shards the model across the processes while training; the first process then holds, measures and saves all of it"
    from huggingtweets.generate import load_model
    from huggingtweets.train import evaluate
    from huggingtweets.dataset import load_dataset
    tiny = make_tiny_model(tmp_path/'tiny')
    (tmp_path/'jack.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    r = torchrun(tmp_path, 'train', f'file:{tmp_path}/jack.txt', '--base-model', tiny, '--block-size', '64', '--max-steps', '4', '--memo-n', '0',
                 '--fsdp', '--data-dir', tmp_path/'data', '--out', tmp_path/'m', '--wandb', 'disabled', port=29578)
    assert r.returncode == 0, r.stderr[-2000:]
    rec = ModelRecord.load(tmp_path/'m')
    tok, model = load_model(tmp_path/'m', 'cpu')
    _, base = load_model(tiny, 'cpu')
    assert [p.shape for p in model.parameters()] == [p.shape for p in base.parameters()]  # whole tensors, not shards
    ev = evaluate(model, tok, load_dataset(tmp_path/'data'/'jack'/'dataset').valid_texts, 64)
    assert rec.train.config['fsdp'] and abs(ev.loss - rec.train.valid_loss) < 1e-4 and rec.train.valid_loss < rec.train.base_valid_loss


def test_update_trains_on_with_new_posts(tmp_path, monkeypatch):
    "A model kept in step: newer posts added, the held-out ones still held out, a new version in the record, the card and W&B"
    from huggingtweets.cli import main
    tiny = make_tiny_model(tmp_path/'tiny')
    f = tmp_path/'jack.txt'
    f.write_text(''.join(t + '\n' for t in sample_tweets(300)))
    args = ['--data-dir', str(tmp_path/'data'), '--wandb', 'offline', '--memo-n', '2']
    monkeypatch.chdir(tmp_path)
    assert main(['run', f'file:{f}', '--base-model', str(tiny), '--out', str(tmp_path/'m'), '--block-size', '64', '--max-steps', '4', '-n', '1', *args]) == 0
    v1 = ModelRecord.load(tmp_path/'m')
    with open(f, 'a') as fh: fh.write(''.join(f'A brand new post number {i} about the garden and the bread\n' for i in range(40)))
    assert main(['update', str(tmp_path/'m'), '--wandb', 'offline', '--memo-n', '2', '-n', '1']) == 0
    v2 = ModelRecord.load(tmp_path/'m')
    assert (v1.version, v2.version) == (1, 2) and v2.accounts[0].stats.kept == v1.accounts[0].stats.kept + 40
    assert v2.base_model == 'tiny' and v2.accounts[0].valid_posts >= v1.accounts[0].valid_posts
    v1_valid = load_dataset(tmp_path/'data'/'jack'/'dataset').valid_texts # what `run` held out
    v2_train = set((tmp_path/'m'/'training-posts.txt').read_text().splitlines())
    assert v1_valid and not set(v1_valid) & v2_train  # held out before, held out still
    assert any(t.startswith('A brand new post') for t in v2_train)
    assert v2.train.config['block_size'] == 64 and v2.train.config['max_steps'] == 4  # its own settings
    assert len(list((tmp_path/'wandb').glob('offline-run-*'))) == 4  # two runs a version
    assert LocalRecord.load(tmp_path/'m').specs == [f'file:{f}']
    assert main(['update', str(tmp_path/'m'), '--wandb', 'offline', '--memo-n', '2', '-n', '1']) == 0  # nothing new: nothing trained
    assert ModelRecord.load(tmp_path/'m').version == 2


def test_update_needs_a_model_trained_here(tmp_path):
    (tmp_path/'config.json').write_text('{}')
    with pytest.raises(UserError, match='has no huggingtweets.json'): pl.update_model(tmp_path)


def test_a_sweep_run_takes_the_sweeps_values(ds, tmp_path, monkeypatch):
    "Inside a W&B agent, the train run's config holds the sweep's values, and training uses them"
    class SweepRun:
        sweep_id, offline, project, id, config = 'abc', True, 'huggingtweets', 'r1', {'learning_rate': 5e-3, 'batch_size': 2, 'epochs': 1}
        def __init__(self): self.summary = {}
        def log(self, *a, **kw): pass
        def log_artifact(self, *a, **kw): pass
        def define_metric(self, *a, **kw): pass
        dir = str(tmp_path/'run'/'files')
    @contextmanager
    def train_run(t, ds, cfg): yield SweepRun()
    monkeypatch.setattr(track, 'train_run', train_run)
    monkeypatch.setenv('WANDB_SWEEP_ID', 'abc')
    tiny = make_tiny_model(tmp_path/'tiny')
    r = pl.train_and_publish(ds, tmp_path/'m', TrainConfig(str(tiny), block_size=64, max_steps=2), wandb='offline', n=0, memo_n=0, progress=False, wandb_dir=tmp_path)
    assert (r.train.config['learning_rate'], r.train.config['batch_size']) == (5e-3, 2)
    assert not (tmp_path/'wandb').exists()  # no preprocess run of its own inside a sweep
