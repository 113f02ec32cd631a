"The `huggingtweets` command: in this process through `main`, and as the installed console script where its real output matters."
import dataclasses, json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest
import fastcore.test as fct
import huggingtweets
from huggingtweets.cli import main
from huggingtweets.train import TrainConfig
from util import make_archive, sample_tweets, shared
from util import readable_tiny_model

def run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err

def offline_env(tmp, **kw):
    "The environment of a command run offline, its W&B files kept in `tmp`"
    env = {k: v for k, v in os.environ.items() if not k.startswith('WANDB_')}
    return env | dict(WANDB_MODE='offline', WANDB_SILENT='true', HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false',
                      WANDB_DATA_DIR=str(tmp/'wandb-data'), WANDB_CACHE_DIR=str(tmp/'wandb-cache'), WANDB_CONFIG_DIR=str(tmp/'wandb-config')) | kw

PREDICTION = re.compile(r'^\s*\d+\. ', re.M)

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return readable_tiny_model(tmp_path_factory.mktemp('tiny')/'gpt2', sample_tweets(200))

@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny):
    "A model folder that `huggingtweets train` wrote, its dataset shuffled with `--data-seed 5`"
    tmp = tmp_path_factory.mktemp('trained')
    z = make_archive(tmp/'jack.zip', sample_tweets(300))
    rc = main([str(a) for a in ('train', f'archive:{z}', '--base-model', tiny, '--block-size', 64, '--max-steps', 3, '--wandb', 'disabled',
                                '--memo-n', 0, '--data-seed', 5, '--data-dir', tmp/'data', '--out', tmp/'model')])
    assert rc == 0
    return tmp

def test_fetch_prints_the_table(tmp_path, capsys):
    z = make_archive(tmp_path/'a.zip', sample_tweets(100))
    rc, out, err = run(capsys, 'fetch', f'archive:{z}', '--data-dir', tmp_path/'data')
    assert rc == 0, err
    lines = out.splitlines()
    fct.test_eq([l.split()[-1] for l in lines if l.startswith(('Tweets downloaded', 'Retweets', 'Short tweets', 'Tweets kept'))], ['100', '10', '10', '80'])
    assert any(re.match(r'Languages\s+en 100%$', l) for l in lines), out
    [stats] = (tmp_path/'data').glob('*/stats.json') # beside the account's cache
    st = json.loads(stats.read_text())
    fct.test_eq((st['handle'], st['source'], st['kept']), ('jack', 'archive', 80))

@pytest.mark.parametrize('flag', ['--seed', '--data-seed'])
def test_dataset_seed(tmp_path, capsys, flag):
    z = make_archive(tmp_path/'a.zip', sample_tweets(300))
    rc, out, err = run(capsys, 'dataset', f'archive:{z}', '--data-dir', tmp_path/'data', '--out', tmp_path/'ds', flag, 7)
    assert rc == 0, err
    fct.test_eq(json.loads((tmp_path/'ds'/'dataset.json').read_text())['seed'], 7)
    assert '(seed 7)' in out and str(tmp_path/'ds') in out, out

def test_train_data_seed(trained):
    "`train --data-seed` shuffles the dataset with that seed and records it, beside the model's own record"
    fct.test_eq(json.loads((trained/'data'/'jack'/'dataset'/'dataset.json').read_text())['seed'], 5)
    rec = json.loads((trained/'model'/'huggingtweets.json').read_text())
    fct.test_eq(rec['dataset']['seed'], 5)
    assert (trained/'model'/'config.json').exists() and (trained/'model'/'training-posts.txt').exists()

@pytest.mark.parametrize('args, msg', [
    (['fetch', 'myspace:tom'], 'Unknown source'),
    (['fetch', 'archive:/nonexistent/archive.zip'], 'No archive at'),
    (['fetch', 'a1', 'a2', 'a3', 'a4'], 'one to three'),
    (['generate', '/nonexistent/model'], "No model folder at '/nonexistent/model'"),
    (['push', '/nonexistent/model'], 'not a model folder'),
    (['train', 'archive:/nonexistent/a.zip', '--block-size', '0'], 'block_size must be at least 2'), # settings fail before any fetch
    (['train', 'archive:/nonexistent/a.zip', '--batch-size', '0'], 'batch_size must be at least 1'),
    (['train', 'archive:/nonexistent/a.zip', '--learning-rate', 'nan'], 'learning_rate must be a positive number, not nan'),
    (['run', 'archive:/nonexistent/a.zip', '--max-steps', '0'], 'max_steps must be -1'),
    (['train', 'archive:/nonexistent/a.zip', '--lr-scheduler', 'bogus'], 'lr_scheduler must be one of'),
    (['train', 'archive:/nonexistent/a.zip', '--seed', '-1'], 'seed must be in [0, 2**32)'),
    (['train', 'archive:/nonexistent/a.zip', '--fsdp'], 'launch with torchrun or accelerate'),
    (['train', 'archive:/nonexistent/a.zip', '--device', 'cuda'], 'No CUDA GPU is visible'),
])
def test_errors_are_one_line(capsys, monkeypatch, args, msg):
    from huggingface_hub import constants
    from transformers import AutoTokenizer, AutoModelForCausalLM # imported beforehand: what is timed is the failure alone
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', False) # as online: a path must not be tried on the Hub
    t0 = time.perf_counter()
    rc, out, err = run(capsys, *args)
    secs = time.perf_counter() - t0
    assert rc == 1 and err.startswith('Error: ') and msg in err and err.count('\n') == 1 and 'Traceback' not in err, err
    assert secs < 2, f'{secs:.1f} s: it should fail at once (no Hub retries)'

def test_generate_errors(tmp_path, capsys, trained, tiny):
    rc, out, err = run(capsys, 'generate', tmp_path) # a folder, but no model
    assert rc == 1 and 'is a folder, but not a model folder' in err and err.count('\n') == 1, err
    rc, out, err = run(capsys, 'generate', trained/'model', '--max-length', 1)
    assert rc == 1 and 'max_length 1 leaves no room after the prompt' in err and err.count('\n') == 1, err
    rc, out, err = run(capsys, 'generate', trained/'model', '-n', -1)
    assert rc == 1 and 'n must be at least 0' in err and err.count('\n') == 1, err
    rc, out, err = run(capsys, 'generate', tiny, '--no-copies') # a model, but not trained here
    assert rc == 1 and 'has no training-posts.txt' in err and err.count('\n') == 1, err

def test_generate(capsys, trained):
    rc, out, err = run(capsys, 'generate', trained/'model', 'Hello there', '-n', 3, '--seed', 0)
    assert rc == 0, err
    fct.test_eq(out.splitlines()[0], 'Prompt: Hello there')
    fct.test_eq(len(PREDICTION.findall(out)), 3)
    assert all(l.split('. ', 1)[1].startswith('Hello there') for l in out.splitlines()[1:]), out
    rc, out, err = run(capsys, 'generate', trained/'model', '-n', 0)
    assert rc == 0 and not PREDICTION.search(out), out

def test_generate_no_copies(tmp_path, capsys, trained):
    "`--no-copies` tells copies by the folder's training-posts.txt: what the model writes anyway is resampled, or marked"
    rc, out, err = run(capsys, 'generate', trained/'model', 'Thinking about', '-n', 6, '--seed', 0)
    assert rc == 0, err
    plain = [l.split('. ', 1)[1] for l in out.splitlines()[1:]]
    fct.test_eq(len(plain), 6)
    rc, out, err = run(capsys, 'generate', trained/'model', 'Thinking about', '-n', 6, '--seed', 0, '--no-copies')
    assert rc == 0, err
    fct.test_eq([l.split('. ', 1)[1] for l in out.splitlines()[1:]], plain) # the same seed; none copies the training posts
    model = shutil.copytree(trained/'model', tmp_path/'model')
    (model/'training-posts.txt').write_text(''.join(p + '\n' for p in plain), encoding='utf-8') # now every one of them is a copy
    rc, out, err = run(capsys, 'generate', model, 'Thinking about', '-n', 6, '--seed', 0, '--no-copies')
    assert rc == 0, err
    lines = out.splitlines()[1:]
    fct.test_eq(len(lines), 6)
    for l, p in zip(lines, plain): # written again, or marked
        assert not l.endswith(f'. {p}'), (l, p)
        assert l.endswith('[copies a training post: could not replace it]') or l.split('. ', 1)[1] != p

def test_every_train_option(capsys):
    "Each `TrainConfig` field is an option of `train` and `run`"
    for cmd in ('train', 'run'):
        with pytest.raises(SystemExit) as e: main([cmd, '--help'])
        fct.test_eq(e.value.code, 0)
        out = capsys.readouterr().out
        for f in dataclasses.fields(TrainConfig): assert f'--{f.name.replace("_", "-")}' in out, (cmd, f.name)

def test_console_script_and_module(tmp_path):
    r = subprocess.run(['huggingtweets', '--version'], capture_output=True, text=True, cwd=tmp_path)
    fct.test_eq((r.returncode, r.stdout.strip()), (0, f'huggingtweets {huggingtweets.__version__}'))
    r = subprocess.run(['huggingtweets', '--help'], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and 'fetch' in r.stdout and 'generate' in r.stdout and 'demo' in r.stdout
    r = subprocess.run([sys.executable, '-m', 'huggingtweets', '--help'], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith('usage: huggingtweets') and 'train' in r.stdout, r.stdout + r.stderr

def test_too_little_data(tmp_path, capsys):
    (tmp_path/'few.txt').write_text('just a few words here\n' * 5)
    rc, out, err = run(capsys, 'dataset', f'file:{tmp_path}/few.txt', '--data-dir', tmp_path/'d', '--out', tmp_path/'ds')
    assert rc == 1 and '@few has only' in err and 'at least 6,000' in err and err.count('\n') == 1, err
    assert not (tmp_path/'ds').exists()

STRAY = re.compile(r'\w+Warning\b|loss_type=None|Traceback|^\[transformers\]|it/s\]|examples/s\]', re.M)

def test_real_archive_end_to_end_offline(tmp_path, tiny):
    "`huggingtweets run` on a real X archive (2022), as a person runs it: offline, its output piped"
    arch = shared('data', 'archives', 'andreruffert_2022-11')
    t0 = time.time()
    r = subprocess.run(['huggingtweets', 'run', f'archive:{arch}', '--base-model', str(tiny), '--block-size', '64', '--max-steps', '20',
                        '--wandb', 'offline', '-n', '4', '--data-seed', '1', '--memo-n', '20'],
                       capture_output=True, text=True, cwd=tmp_path, env=offline_env(tmp_path), timeout=300)
    out, err = r.stdout, r.stderr
    assert r.returncode == 0, out + err
    m = tmp_path/'models'/'andreruffert'
    card = (m/'README.md').read_text()
    for row in ('| Tweets downloaded | 1986 |', '| Retweets | 643 |', '| Short tweets | 230 |', '| Tweets kept | 1113 |', 'AI BOT'): assert row in card, row
    assert 'Prompt: My dream is' in out and '4. My dream is' in out and '5. ' not in out, out
    assert len(list((tmp_path/'wandb').glob('offline-run-*'))) == 2, out # preprocess and train
    assert 'W&B runs, offline: ' in out
    fct.test_eq(json.loads((tmp_path/'data'/'andreruffert'/'dataset'/'dataset.json').read_text())['seed'], 1)
    assert re.search(r'^Timings: fetch [\d.]+ s, .*\(total [\d.]+ s\)$', out, re.M), out
    assert re.search(r'^step \d+/20 · loss [\d.]+ · [\d,]+ tokens/s · \d+:\d\d left$', err, re.M), err # progress lines: stderr is not a terminal
    assert not STRAY.search(out + err), STRAY.search(out + err)
    print(f'run on a real archive: {time.time() - t0:.1f} s')


def test_a_folder_of_the_users_is_never_replaced(tmp_path, capsys, tiny, monkeypatch):
    "--out naming a folder with other files, a file, or this folder: refused before anything is trained, and nothing of it lost"
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('precious')
    (tmp_path/'file.txt').write_text('precious')
    common = ['--data-dir', tmp_path/'data', '--base-model', tiny, '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled', '--memo-n', 0]
    for out, msg in [(tmp_path/'mine', 'holds other files (notes.txt)'), (tmp_path/'file.txt', 'is a file')]:
        rc, _, err = run(capsys, 'dataset', f'file:{tmp_path}/posts.txt', '--data-dir', tmp_path/'data', '--out', out)
        assert rc == 1 and msg in err and err.count('\n') == 1, err
        rc, stdout, err = run(capsys, 'train', f'file:{tmp_path}/posts.txt', '--out', out, *common)
        assert rc == 1 and msg in err and 'Trained' not in stdout, err
    fct.test_eq(((tmp_path/'mine'/'notes.txt').read_text(), (tmp_path/'file.txt').read_text()), ('precious', 'precious'))
    fct.test_eq(sorted(p.name for p in (tmp_path/'mine').iterdir()), ['notes.txt'])
    with monkeypatch.context() as m:
        m.chdir(tmp_path/'mine')
        rc, _, err = run(capsys, 'dataset', f'file:{tmp_path}/posts.txt', '--data-dir', tmp_path/'data', '--out', '.')
    assert rc == 1 and 'is this folder or holds it' in err, err
    assert not [p for p in tmp_path.iterdir() if '.tmp-' in p.name or '.old-' in p.name]

def test_training_that_diverges_keeps_the_previous_model(tmp_path, capsys, tiny):
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    common = ['--data-dir', tmp_path/'data', '--base-model', tiny, '--block-size', 64, '--max-steps', 5, '--wandb', 'disabled', '--memo-n', 0,
              '--out', tmp_path/'m']
    assert run(capsys, 'train', f'file:{tmp_path}/posts.txt', *common)[0] == 0
    before = (tmp_path/'m'/'model.safetensors').read_bytes()
    rc, out, err = run(capsys, 'train', f'file:{tmp_path}/posts.txt', *common, '--learning-rate', '1e8')
    last = err.splitlines()[-1] # after the progress lines
    assert rc == 1 and last.startswith('Error: Training diverged') and 'lower --learning-rate than 1e+08' in last and err.count('Error') == 1, err
    assert (tmp_path/'m'/'model.safetensors').read_bytes() == before

def test_update_says_when_nothing_is_new(tmp_path, capsys, tiny, monkeypatch):
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    monkeypatch.chdir(tmp_path)
    assert run(capsys, 'train', 'file:posts.txt', '--base-model', tiny, '--block-size', 64, '--max-steps', 2,
               '--wandb', 'disabled', '--memo-n', 0)[0] == 0 # a relative path, trained from its folder...
    monkeypatch.chdir(tmp_path.parent)
    rc, out, err = run(capsys, 'update', tmp_path/'models'/'posts', '--wandb', 'disabled') # ...updated from another
    assert rc == 0 and 'No new post to train on since version 1' in out, out + err


def test_the_fast_loop_through_train_update_and_run(tmp_path, capsys, tiny, monkeypatch):
    "The loop a bf16 GPU takes, run eagerly on the CPU through every command that trains: each says which loop ran, the record keeps it, update trains on with it"
    from huggingtweets.record import ModelRecord
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    monkeypatch.chdir(tmp_path)
    common = ('--base-model', tiny, '--block-size', 64, '--max-steps', 4, '--wandb', 'disabled', '--memo-n', 0)
    rc, out, err = run(capsys, 'train', 'file:posts.txt', '--device', 'cpu', '--loop', 'fast', *common)
    assert rc == 0 and 'tokens/s, eager); validation loss' in out, out + err
    rec = ModelRecord.load(tmp_path/'models'/'posts')
    assert (rec.train.loop, rec.train.config['loop'], rec.train.steps) == ('eager', 'fast', 4)
    rc, out, err = run(capsys, 'update', 'models/posts', '--force', '--wandb', 'disabled', '--memo-n', 0, '-n', 1)
    assert rc == 0 and 'eager); validation loss' in out and ModelRecord.load(tmp_path/'models'/'posts').version == 2, out + err
    rc, out, err = run(capsys, 'run', 'file:posts.txt', '--loop', 'fast', '--out', 'models/again', '-n', 2, *common)
    assert rc == 0 and 'eager); validation loss' in out and len(PREDICTION.findall(out)) == 2, out + err
    rc, out, err = run(capsys, 'train', 'file:posts.txt', '--loop', 'graph', *common)
    assert rc == 1 and err.strip().splitlines()[-1] == "Error: loop must be auto, fast or trainer, not 'graph': change it, or leave it out for the default.", err


def test_a_marker_file_is_not_ownership(tmp_path, capsys, tiny):
    "A folder holding our marker (dataset.json, huggingtweets.json, config.json) beside a user's files is refused whole; one of ours is replaced"
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    def users(name, marker):
        d = tmp_path/name; (d/'src').mkdir(parents=True)
        (d/marker).write_text('{}'); (d/'thesis.txt').write_text('precious'); (d/'src'/'main.py').write_text('print(1)')
        return d
    common = ['--data-dir', tmp_path/'data', '--base-model', tiny, '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled', '--memo-n', 0]
    for cmd, marker in [(['dataset', f'file:{tmp_path}/posts.txt', '--data-dir', tmp_path/'data'], 'dataset.json'),
                        (['train', f'file:{tmp_path}/posts.txt', *common], 'huggingtweets.json'), (['tiny-model'], 'config.json')]:
        d = users(f'mine-{cmd[0]}', marker)
        rc, out, err = run(capsys, *cmd, d) if cmd[0] == 'tiny-model' else run(capsys, *cmd, '--out', d)
        assert rc == 1 and 'holds other files (src/, thesis.txt)' in err and err.count('\n') == 1, (cmd[0], err)
        fct.test_eq(sorted(p.relative_to(d).as_posix() for p in d.rglob('*')), sorted([marker, 'src', 'src/main.py', 'thesis.txt']))
    rc, _, err = run(capsys, 'dataset', f'file:{tmp_path}/posts.txt', '--data-dir', tmp_path/'data', '--out', tmp_path/'ds')
    rc2, _, err2 = run(capsys, 'dataset', f'file:{tmp_path}/posts.txt', '--data-dir', tmp_path/'data', '--out', tmp_path/'ds')
    assert rc == rc2 == 0, err + err2 # a folder the tool wrote is replaced
    assert run(capsys, 'tiny-model', tmp_path/'t')[0] == 0 and run(capsys, 'tiny-model', tmp_path/'t')[0] == 0
    (tmp_path/'ds'/'train'/'notes.md').write_text('mine')
    rc, _, err = run(capsys, 'dataset', f'file:{tmp_path}/posts.txt', '--data-dir', tmp_path/'data', '--out', tmp_path/'ds')
    assert rc == 1 and 'train/notes.md' in err, err
    assert (tmp_path/'ds'/'train'/'notes.md').read_text() == 'mine'

def test_code_in_a_model_folder_never_runs(tmp_path, capsys, tiny):
    "A model folder whose config (or tokenizer config) names code of its own (auto_map) is refused with one sentence, as base or to generate; its code never runs"
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    sentinel = tmp_path/'ran'
    for n in ('config.json', 'tokenizer_config.json'):
        m = tmp_path/f'evil-{n}'
        shutil.copytree(tiny, m)
        (m/'evil.py').write_text(f'open({str(sentinel)!r}, "w").write("ran")\nfrom transformers import GPT2Config as EvilConfig, GPT2LMHeadModel as EvilModel\n')
        d = json.loads((m/n).read_text()); d['auto_map'] = {'AutoConfig': 'evil.EvilConfig', 'AutoModelForCausalLM': 'evil.EvilModel', 'AutoTokenizer': ['evil.EvilConfig', None]}
        (m/n).write_text(json.dumps(d))
        rc, _, err = run(capsys, 'generate', m, '-n', 1)
        assert rc == 1 and f'auto_map in {n}' in err and 'never does' in err and err.count('\n') == 1, err
        rc, out, err = run(capsys, 'train', f'file:{tmp_path}/posts.txt', '--base-model', m, '--out', tmp_path/'out', '--data-dir', tmp_path/'data',
                           '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled', '--memo-n', 0)
        assert rc == 1 and 'auto_map' in err and 'Trained' not in out, err
    assert not sentinel.exists() and not (tmp_path/'out').exists()

def test_loading_never_trusts_remote_code(tmp_path, monkeypatch, tiny):
    "Past the folder check, transformers itself is told never to run a folder's code: a config it does not know is a UserError, and the code stays unrun"
    from huggingtweets import core, generate, train
    from huggingtweets.core import UserError
    m = tmp_path/'evil'; shutil.copytree(tiny, m)
    (m/'evil.py').write_text(f'open({str(tmp_path/"ran")!r}, "w").write("ran")\n')
    d = json.loads((m/'config.json').read_text()); d.update(model_type='evil-x', auto_map={'AutoConfig': 'evil.C', 'AutoModelForCausalLM': 'evil.M'})
    (m/'config.json').write_text(json.dumps(d))
    monkeypatch.setattr(core, '_custom_code', lambda p: '')
    for load in (lambda: generate.load_model(m, 'cpu'), lambda: train.load_base(str(m))):
        with pytest.raises(UserError): load()
    assert not (tmp_path/'ran').exists()

def test_tracebacks_become_sentences(tmp_path, capsys, trained):
    "An unbalanced quote in sweep --train-args, a record or dataset.json of the wrong JSON shape: one line each, exit 1"
    rc, _, err = run(capsys, 'sweep', 'file:x.txt', '--train-args', '--base-model "tiny')
    assert rc == 1 and "can't be split into options (no closing quotation)" in err and err.count('\n') == 1, err
    m = tmp_path/'m'; shutil.copytree(trained/'model', m)
    for name, body, says in [('huggingtweets.json', '[]', 'huggingtweets.json is damaged'), ('huggingtweets.json', '{"dataset": 5, "train": {}}', 'is damaged'),
                             ('.huggingtweets-local.json', '[1]', '.huggingtweets-local.json is damaged'),
                             ('.huggingtweets-local.json', '{"specs": "x", "data_dir": 1}', '.huggingtweets-local.json is damaged')]:
        shutil.copy(trained/'model'/name, m/name) if (trained/'model'/name).exists() else None
        keep = (m/name).read_text(); (m/name).write_text(body)
        rc, _, err = run(capsys, 'update', m)
        assert rc == 1 and says in err and 'Traceback' not in err, (name, body, err)
        (m/name).write_text(keep)
    from huggingtweets.dataset import load_dataset
    from huggingtweets.core import UserError
    (tmp_path/'ds').mkdir(); (tmp_path/'ds'/'dataset.json').write_text('[]')
    with pytest.raises(UserError, match='dataset.json.* is damaged'): load_dataset(tmp_path/'ds')

def test_output_that_cannot_be_shown_or_is_cut(tmp_path):
    "A non-UTF-8 terminal gets `?` for what it can't show; `fetch | head -1` ends quietly when the reader has gone"
    (tmp_path/'posts é.txt').write_text(''.join(t + '\n' for t in sample_tweets(100)))
    env = offline_env(tmp_path, PYTHONIOENCODING='ascii', PYTHONPATH=str(Path(huggingtweets.__file__).parents[1]))
    r = subprocess.run([sys.executable, '-m', 'huggingtweets', 'fetch', f'file:{tmp_path}/posts é.txt', '--data-dir', str(tmp_path/'d')], capture_output=True, env=env, cwd=tmp_path)
    assert r.returncode == 0 and b'Traceback' not in r.stderr and b'posts ?.txt' in r.stdout, r.stderr
    r, w = os.pipe(); os.close(r) # a reader that has gone, as `head -1` has after its line: every write fails with EPIPE
    try: p = subprocess.run([sys.executable, '-m', 'huggingtweets', 'fetch', f'file:{tmp_path}/posts é.txt', '--data-dir', str(tmp_path/'d')], stdout=w, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    finally: os.close(w)
    assert p.returncode == 141 and p.stderr == b'', p.stderr

def test_what_fails_after_training_is_checked_before(tmp_path, capsys, tiny, monkeypatch):
    "An output name too long, a folder that can't be written, a base without a tokenizer, too little free disk: one sentence before any training"
    from huggingtweets import pipeline
    (tmp_path/'posts.txt').write_text(''.join(t + '\n' for t in sample_tweets(300)))
    notok = tmp_path/'no-tokenizer'; shutil.copytree(tiny, notok)
    for f in notok.iterdir():
        if f.name.startswith(('tokenizer', 'vocab', 'merges', 'special_tokens')): f.unlink()
    common = ['--data-dir', tmp_path/'data', '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled', '--memo-n', 0]
    for out, base, says in [(tmp_path/('x' * 250), tiny, 'is too long for this file system'), (Path('/proc/huggingtweets-test/m'), tiny, "Can't write in /proc"),
                            (tmp_path/'m', notok, 'has no tokenizer')]:
        rc, stdout, err = run(capsys, 'train', f'file:{tmp_path}/posts.txt', '--out', out, '--base-model', base, *common)
        assert rc == 1 and says in err and err.count('\n') == 1 and 'Trained' not in stdout and 'Dataset' not in stdout, err  # before the dataset is written
    monkeypatch.setattr(pipeline.shutil, 'disk_usage', lambda p: shutil._ntuple_diskusage(10 << 30, 10 << 30, 1 << 20))
    rc, stdout, err = run(capsys, 'train', f'file:{tmp_path}/posts.txt', '--out', tmp_path/'m', '--base-model', tiny, *common)
    assert rc == 1 and '0.0 GiB free, and the model' in err and 'Trained' not in stdout, err
    assert not (tmp_path/'m').exists()


def refused_port()->int:
    "A port on 127.0.0.1 where nothing listens: a connection there is refused at once"
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


PASS, PASS_ENC = 'Sup3r$ecret@pw', 'Sup3r%24ecret%40pw'  # a password, and as it is written in a URL


@pytest.mark.parametrize('var,spec', [('HUGGINGTWEETS_MASTODON_URL', 'mastodon:@alice@example.social'), ('HUGGINGTWEETS_BLUESKY_URL', 'bluesky:alice.bsky.social')])
def test_a_password_in_a_url_is_never_printed(tmp_path, var, spec):
    "A URL with userinfo in the environment, a connection refused: the error names the host, never the password, raw or percent-encoded"
    url = f'http://bot:{PASS_ENC}@127.0.0.1:{refused_port()}'
    r = subprocess.run([sys.executable, '-m', 'huggingtweets', 'fetch', spec, '--data-dir', str(tmp_path/'d')], capture_output=True, text=True,
                       env=offline_env(tmp_path, **{var: url}), cwd=tmp_path, timeout=120)
    assert r.returncode == 1 and 'connection was refused' in r.stderr and '127.0.0.1' in r.stderr, r.stderr
    for s in (PASS, PASS_ENC, 'bot:'): assert s not in r.stdout + r.stderr, r.stderr


def test_a_password_in_base_url_is_never_printed(trained, tmp_path):
    "`bot --base-url http://bot:PASSWORD@host` with the connection refused: the same"
    url = f'http://bot:{PASS_ENC}@127.0.0.1:{refused_port()}'
    r = subprocess.run([sys.executable, '-m', 'huggingtweets', 'bot', str(trained/'model'), '--to', 'mastodon:@bot@example.social', '--base-url', url, '--dry-run'],
                       capture_output=True, text=True, env=offline_env(tmp_path, MASTODON_ACCESS_TOKEN='tok-0123456789'), cwd=tmp_path, timeout=120)
    assert r.returncode == 1 and '127.0.0.1' in r.stderr, r.stderr
    for s in (PASS, PASS_ENC, 'bot:'): assert s not in r.stdout + r.stderr, r.stderr


HOSTILE_PROMPT = '\x1b]0;pwned\x07\x1b[2J\u202eMy dream'  # an OSC title, a screen clear, a right-to-left override


def test_generate_never_prints_a_post_raw(trained, capsys):
    "What a model writes (here after a prompt holding terminal escapes) reaches the terminal as plain text"
    rc, out, err = run(capsys, 'generate', trained/'model', HOSTILE_PROMPT, '-n', 3, '--seed', 0)
    assert rc == 0, err
    assert not any(c in out for c in '\x1b\x07\x9b\u202e'), repr(out)
    assert out.startswith('Prompt: ]0;pwned My dream') or out.startswith('Prompt: My dream'), repr(out)
    assert len(PREDICTION.findall(out)) == 3
    from huggingtweets import generate as g
    import functools
    real = g.generate
    @functools.wraps(real)  # the parser reads generate's options from its signature
    def hostile(*a, **kw): return [t + ' \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \u202eevil' for t in real(*a, **kw)]  # as a model that learnt escapes would write
    g.generate = hostile
    try: rc, out, err = run(capsys, 'generate', trained/'model', 'My dream', '-n', 2, '--seed', 0)
    finally: g.generate = real
    assert rc == 0 and len(PREDICTION.findall(out)) == 2 and out.count(' link evil') == 2, repr(out)
    assert not any(c in out for c in '\x1b\x07\x9b\u202e'), repr(out)


def test_a_second_run_leaves_the_first_runs_dataset(tiny, tmp_path, capsys, monkeypatch):
    "While a run holds a model's lock, a second `train` on the same model is refused before it writes data/NAME/dataset: the first run's stays as it was"
    from huggingtweets.core import one_run
    monkeypatch.chdir(tmp_path)
    z = make_archive(tmp_path/'jack.zip', sample_tweets(300))
    args = ['train', f'archive:{z}', '--base-model', tiny, '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled', '--memo-n', 0]
    rc, out, err = run(capsys, 'dataset', f'archive:{z}', '--out', tmp_path/'data'/'jack'/'dataset', '--seed', 1)  # what the first run wrote
    assert rc == 0, err
    ds = tmp_path/'data'/'jack'/'dataset'
    before = {p.relative_to(ds): p.read_bytes() for p in ds.rglob('*') if p.is_file()}
    with one_run(tmp_path/'models'/'jack'):  # the first run, still training
        rc, out, err = run(capsys, *args, '--data-seed', 2)
    assert rc == 1 and 'Another huggingtweets run is writing' in err and 'Dataset jack' not in out, (out, err)
    fct.test_eq({p.relative_to(ds): p.read_bytes() for p in ds.rglob('*') if p.is_file()}, before)
    rc, out, err = run(capsys, *args, '--data-seed', 2)  # once it is done, the same run goes through
    assert rc == 0 and 'Dataset jack' in out, err
    assert {p.relative_to(ds): p.read_bytes() for p in ds.rglob('*') if p.is_file()} != before


@pytest.fixture
def small_disk(tmp_path):
    "A mount point for a real tmpfs of a chosen size (`mount(kib)`), unmounted after; the test is skipped where this machine can't mount one (not root, no CAP_SYS_ADMIN)"
    mnt, mounted = tmp_path/'disk', []
    mnt.mkdir()
    def mount(kib):
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={kib}k', 'tmpfs', str(mnt)], capture_output=True, text=True)
        if r.returncode: pytest.skip(f'no tmpfs here ({r.stderr.strip() or r.returncode})')
        mounted.append(mnt)
        return mnt
    yield mount
    for m in mounted: subprocess.run(['umount', str(m)], check=False)


def test_a_full_disk_while_saving_weights_is_one_sentence(tiny, tmp_path, small_disk, capsys, monkeypatch):
    "A disk that holds the earlier model but not a second copy beside it: `train` again says so in one sentence, and the earlier folder is kept as it was"
    from huggingtweets import pipeline
    z = make_archive(tmp_path/'jack.zip', sample_tweets(300))
    args = ['train', f'archive:{z}', '--base-model', tiny, '--block-size', 64, '--max-steps', 2, '--wandb', 'disabled', '--memo-n', 0, '--data-dir', tmp_path/'data']
    rc, out, err = run(capsys, *args, '--out', tmp_path/'first')
    assert rc == 0, err
    size = sum(p.stat().st_size for p in (tmp_path/'first').rglob('*') if p.is_file())
    disk = small_disk((size + size // 2) // 1024)  # the earlier model and half of a new one
    shutil.copytree(tmp_path/'first', disk/'jack')
    before = {p.relative_to(disk): p.read_bytes() for p in disk.rglob('*') if p.is_file()}
    monkeypatch.setattr(pipeline, 'check_before_training', lambda out, base: None)  # the free-space estimate passed (the disk filled up since)
    rc, out, err = run(capsys, *args, '--out', disk/'jack')
    last = err.strip().splitlines()[-1]
    assert rc == 1 and last.startswith('Error: The disk of ') and 'filled up while the weights were being saved' in last and 'Traceback' not in err, err
    fct.test_eq({p.relative_to(disk): p.read_bytes() for p in disk.rglob('*') if p.is_file()}, before)  # the earlier model as it was, no temporary left
