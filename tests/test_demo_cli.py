"""`huggingtweets demo` as a newcomer runs it: the installed command in an empty folder, a fresh home (no login, no cache) and no ../shared:
the bundled example account, a tiny GPT-2 made on the spot, W&B offline, all under --out."""
import os, re, subprocess, sys, time
from pathlib import Path
import fastcore.test as fct

def test_demo_command(tmp_path):
    cwd, home, out = tmp_path/'cwd', tmp_path/'home', tmp_path/'demo'
    cwd.mkdir(); home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(('WANDB_', 'HF_', 'HUGGINGFACE_', 'XDG_'))}
    env |= dict(HOME=str(home), HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false') # offline: nothing is downloaded
    t0 = time.time()
    r = subprocess.run(['huggingtweets', 'demo', '--out', str(out)], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    secs = time.time() - t0
    print(f'huggingtweets demo: {secs:.1f} s;', *re.findall(r'^Timings: .*$', r.stdout, re.M))
    assert r.returncode == 0, r.stdout + r.stderr
    so = r.stdout
    assert not (cwd/'..'/'shared').exists() and list(cwd.iterdir()) == [], list(cwd.iterdir()) # nothing written beside --out
    # the stats table of the example account
    assert re.search(r'^\s+@wrencrumb$', so, re.M), so
    counts = {k: int(re.search(rf'^{k}\s+([\d,]+)$', so, re.M).group(1).replace(',', '')) for k in ('Tweets downloaded', 'Retweets', 'Short tweets', 'Tweets kept')}
    fct.test_eq(counts['Tweets downloaded'], counts['Retweets'] + counts['Short tweets'] + counts['Tweets kept'])
    assert counts['Tweets kept'] > 100, counts
    # the predictions, and the timings
    assert 'Prompt: My dream is' in so
    preds = re.findall(r'^\s*(\d+)\. (.*)$', so, re.M)
    fct.test_eq([int(i) for i, _ in preds], list(range(1, 11)))
    assert all(p.startswith('My dream is') for _, p in preds), preds
    assert re.search(r'^Timings: .*train [\d.]+ s.*\(total [\d.]+ s\)$', so, re.M), so
    # where the model, its card and the W&B runs are
    model = out/'models'/'wrencrumb'
    assert f'Model: {model} (card: {model/"README.md"})' in so, so
    runs = sorted((out/'wandb').glob('offline-run-*'))
    fct.test_eq(len(runs), 2) # preprocess and train
    for run in runs: assert list(run.glob('run-*.wandb')), run
    m = re.search(r'^W&B runs, offline: (.+); upload them with', so, re.M)
    assert m, so
    fct.test_eq(sorted(Path(p) for p in m.group(1).split()), [r.resolve() for r in runs])
    # the card: a local tiny base is no Hub model
    from huggingface_hub import ModelCard
    card = ModelCard.load(model/'README.md')
    fct.test_eq((card.data.base_model, card.data.language), (None, ['en']))
    mi = card.data.to_dict()['model-index']
    fct.test_eq(mi[0]['name'], 'wrencrumb')
    assert {x['type'] for x in mi[0]['results'][0]['metrics']} >= {'loss'}, mi
    assert 'wrencrumb' in card.text and 'AI BOT' in card.text
    assert 'Traceback' not in r.stderr and not re.search(r'\w+Warning\b', r.stdout + r.stderr), r.stderr[-3000:]
