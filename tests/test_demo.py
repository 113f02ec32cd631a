"The demo notebook, top to bottom with nbclient, as committed: Colab-only cells skipped, a local archive and a tiny model chosen through environment variables."
import json
from pathlib import Path
import nbformat
import pytest
import fastcore.test as fct
from nbclient import NotebookClient
from util import ROOT, make_archive, sample_tweets, readable_tiny_model
from huggingtweets.core import EOT

DEMO = ROOT/'huggingtweets-demo.ipynb'
COLAB_ONLY = '# colab-only'
BADGE = '[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/huggingtweets/huggingtweets/blob/main/huggingtweets-demo.ipynb)'

def test_readable_tiny_model(tmp_path):
    "Every token of the helper's tokenizer decodes to printable ASCII (or is the end-of-text token)"
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(readable_tiny_model(tmp_path/'m', ['Café “crème” — 🍞 bread and butter'] + sample_tweets(50)))
    for i in range(len(tok)):
        s = tok.decode([i])
        assert s == EOT or all(' ' <= c <= '~' for c in s), (i, s)
    fct.test_eq(tok.decode(tok('My Café “crème” bread!').input_ids), 'My Caf crme bread!') # other characters are dropped, not garbled
    from huggingtweets.generate import load_model, generate
    tok, model = load_model(tmp_path/'m')
    posts = generate((tok, model), 'My dream is', 20, seed=0, max_length=160)
    assert all(p.startswith('My dream is') and p.isascii() for p in posts), posts
    assert max(len(tok(p).input_ids) for p in posts) < 60, posts # ended early, not at max_length

def demo_env(tmp, tiny, **kw):
    "The settings the demo reads (see `AppConfig.from_env`): a tiny, quick, offline run"
    return dict(HUGGINGTWEETS_DATA_DIR=str(tmp/'data'), HUGGINGTWEETS_MODELS_DIR=str(tmp/'models'), HUGGINGTWEETS_BASE_MODEL=str(tiny),
                HUGGINGTWEETS_BLOCK_SIZE='64', HUGGINGTWEETS_MAX_STEPS='10', HUGGINGTWEETS_WANDB='disabled', HUGGINGTWEETS_AVATARS='0',
                HUGGINGTWEETS_DATA_SEED='0', TOKENIZERS_PARALLELISM='false', **kw)

def test_committed_clean():
    "Ready for Colab and Voila: a kernelspec, the badge on top, no outputs, and the install cell marked Colab-only"
    nb = nbformat.read(DEMO, as_version=4)
    nbformat.validate(nb)
    fct.test_eq(nb.metadata.kernelspec.name, 'python3')
    assert BADGE in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == 'code']
    fct.test_eq([(c.outputs, c.execution_count) for c in code], [([], None)] * len(code))
    colab = [c for c in code if c.source.startswith(COLAB_ONLY)]
    fct.test_eq(len(colab), 1)
    assert "if 'google.colab' in sys.modules:" in colab[0].source and "'pip', 'install'" in colab[0].source
    from configparser import ConfigParser
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    assert f"git+{cfg['DEFAULT']['git_url']}'" in colab[0].source and 'Installing huggingtweets failed' in colab[0].source  # from settings.ini, and says what to do
    assert [c.source for c in code if 'app.show(' in c.source] == ['app = App.for_kernel(AppConfig.from_env()) # the same app when this cell runs again: nothing is lost\napp.show(1)', 'app.show(2)', 'app.show(3)']

def test_demo_runs(tmp_path, monkeypatch):
    texts = sample_tweets(300)
    tiny = readable_tiny_model(tmp_path/'tiny-gpt2', texts)
    archive = make_archive(tmp_path/'jack.zip', texts)
    for k, v in demo_env(tmp_path, tiny, HUGGINGTWEETS_SPEC=f'archive:{archive}', HUGGINGTWEETS_AUTORUN='1').items(): monkeypatch.setenv(k, v)
    nb = nbformat.read(DEMO, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == 'code' and c.source.startswith(COLAB_ONLY))]
    nb.cells.append(nbformat.v4.new_code_cell( # what the app ended in, read in the same kernel; the notebook file is untouched
        "import json\nprint(json.dumps(dict(kept=[c.stats.kept for c in app.state.curated], msgs=[app.msg1.value, app.msg2.value, app.msg3.value],"
        " progress=[app.progress.value, app.progress.max], valid_loss=app.state.run.train.valid_loss, predictions=app.state.predictions,"
        " rows=len(app.card_buttons), model_dir=str(app.state.run.folder), curve=app.curve.value, no_copies=app.no_copies.value)))"))
    NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    outs = {c.id: c.outputs for c in nb.cells if c.cell_type == 'code'}
    gpu = json.dumps(outs['gpu'])
    assert 'GPU found' in gpu or ('No GPU found' in gpu and 'Runtime &gt;' not in gpu) # not Colab: no Colab menu named
    for cell in ('step1', 'step2', 'step3'): # each step cell shows its widgets
        assert any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in outs[cell]), cell
    for o in (o for os_ in outs.values() for o in os_): assert o['output_type'] != 'error', o
    state = json.loads(nb.cells[-1].outputs[0]['text'])
    fct.test_eq(state['kept'], [240])
    assert 'Dataset ready' in state['msgs'][0] and 'The neural network is trained' in state['msgs'][1] and 'Share your favourites' in state['msgs'][2]
    fct.test_eq((state['progress'], state['rows'], len(state['predictions'])), ([10, 10], 10, 10))
    assert state['valid_loss'] > 0 and state['model_dir'].startswith(str(tmp_path/'models'))
    assert state['curve'].startswith('<svg class="ht-curve"') and state['no_copies']
    assert all(p.startswith('My dream is') and p.isascii() for p in state['predictions']), state['predictions']
