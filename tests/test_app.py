"The demo app, headless: its widgets set and its buttons clicked as a person would, on X archives in the real format and a tiny GPT-2."
import base64, html, re
from datetime import datetime, timezone
from pathlib import Path
import pytest
import fastcore.test as fct
from huggingtweets.card import md_text
from PIL import Image
from util import make_archive, sample_tweets, shared
from util import readable_tiny_model
import ipywidgets as W
import huggingtweets.app as app_mod
import huggingtweets.clean as clean_mod
import huggingtweets.generate as generate_mod
import huggingtweets.memorize as memorize_mod
import huggingtweets.train as train_mod
from huggingtweets.app import App, AppConfig
from huggingtweets.dataset import AccountInfo, PostsDataset
from huggingtweets.demo import example_spec
from huggingtweets.hub import LOCAL_ONLY
from huggingtweets.memorize import Prediction
from huggingtweets.tweetcard import CARD_SIZE

HOSTILE = 'Watch this <script>alert("x")</script> & <b>bold</b> move today'

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A tiny random GPT-2 whose tokenizer knows only printable ASCII: its predictions decode cleanly"
    return readable_tiny_model(tmp_path_factory.mktemp('tiny')/'tiny-gpt2', [HOSTILE] + sample_tweets(300))

@pytest.fixture(scope='module')
def archive(tmp_path_factory):
    "An X archive zip of 301 varied tweets (about 18,000 kept characters), the first one full of markup"
    return make_archive(tmp_path_factory.mktemp('archives')/'jack.zip', [HOSTILE] + sample_tweets(300))

@pytest.fixture
def no_reload(monkeypatch):
    "Loading a model from its folder fails: predictions must use the one in memory (`RunResult.model`)"
    def refuse(*a, **kw): raise AssertionError(f'load_model{a} was called')
    monkeypatch.setattr(generate_mod, 'load_model', refuse)

def make_app(tmp, tiny, **kw):
    cfg = dict(data_dir=str(tmp/'data'), models_dir=str(tmp/'models'), base_model=str(tiny), block_size=64, max_steps=10,
               wandb='disabled', avatars=False, data_seed=0) | kw
    return App(AppConfig(**cfg))

def buttons(app): return dict(download=app.download_button.disabled, train=app.train_button.disabled, predict=app.predict_button.disabled)

def spy(monkeypatch, app, mod, name, result=None):
    "Wrap `mod.<name>` to record which buttons were disabled while it ran, and whether a step could start meanwhile"
    seen, real = [], getattr(mod, name)
    def wrapper(*a, **kw):
        seen.append(buttons(app) | dict(cards=[b.disabled for b in app.card_buttons], example=app.example_button.disabled,
                                        again=[app.download(), app.train(), app.predict()], kw=kw))
        return real(*a, **kw) if result is None else result(*a, **kw)
    monkeypatch.setattr(mod, name, wrapper)
    return seen

def rows(app):
    "The prediction rows (each: the text, the share links, the Card button), without the card drawn among them"
    return [r for r in app.table.children if r is not app.card_box]

def shares(app):
    "The share links of each prediction"
    return [r.children[1].value for r in rows(app)]

def preds_html(app):
    "The text of each prediction"
    return [r.children[0].value for r in rows(app)]

def test_three_steps(tmp_path, tiny, archive, monkeypatch, no_reload):
    app = make_app(tmp_path, tiny, loop='fast') # the loop a GPU user's app takes, run eagerly: its callbacks move the bar and the curve
    fct.test_eq(buttons(app), dict(download=False, train=True, predict=True))
    assert app.no_copies.value # on by default
    fetching, training = spy(monkeypatch, app, app_mod, 'prepare_all'), spy(monkeypatch, app, app_mod, 'train_and_publish')
    # Step 1
    app.boxes[0].value = f'archive:{archive}'
    app.download_button.click()
    assert 'Dataset ready: ' in app.msg1.value and 'ht-warn' in app.msg1.value, app.msg1.value # under 40,000 characters: a warning
    assert 'was not trained on' not in app.msg1.value # English posts, and a local base of unknown languages: no language warning
    st = app.state.curated[0].stats
    fct.test_eq((st.downloaded, st.retweets, st.kept), (301, 30, 241))
    for label, n in [('Tweets downloaded', 301), ('Retweets', 30), ('Short tweets', 30), ('Tweets kept', 241)]:
        assert f'<tr><td>{label}</td><td>{n}</td></tr>' in app.out1.value
    assert '<tr><td>Languages</td><td>en 100%</td></tr>' in app.out1.value, app.out1.value
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;' in app.out1.value # a sample, escaped
    assert '<script>' not in app.out1.value and '<b>bold' not in app.out1.value
    acc = app.state.dataset.info.accounts
    assert isinstance(app.state.dataset, PostsDataset) and isinstance(acc[0], AccountInfo)
    fct.test_eq((len(acc), acc[0].handle, acc[0].stats.kept, app.state.dataset.name), (1, 'jack', 241, 'jack'))
    fct.test_eq(buttons(app), dict(download=False, train=False, predict=True))
    # Step 2: the bar, the label (speed and time left) and the loss curve follow the steps
    labels = []
    app.progress_label.observe(lambda ch: labels.append(ch['new']), 'value')
    app.train_button.click()
    fct.test_eq((app.progress.value, app.progress.max, app.progress.bar_style), (10, 10, 'success'))
    assert any('tokens/s' in l and 'left' in l and 'step 10 of 10' in l for l in labels), labels
    for words in ('Measuring the validation loss', 'Writing 10 posts', 'Saving the model'): # the wait after the bar has its words
        assert any(words in l for l in labels), labels
    assert re.fullmatch(r'Done in \d+ s: 10 training steps, then the evaluation and the first posts\.', labels[-1]), labels[-1]
    assert app.curve.value.startswith('<svg class="ht-curve"') and '<polyline points=' in app.curve.value, app.curve.value
    vl = float(re.search(r'Validation loss: ([\d.]+)', app.out2.value).group(1))
    fct.test_close(vl, app.state.run.train.valid_loss, eps=1e-3)
    assert 'The neural network is trained' in app.msg2.value
    assert app.state.run.model is not None # the model stays in memory for step 3
    fct.test_eq(app.state.run.train.loop, 'eager')
    fct.test_eq(training[0]['kw']['no_copies'], True)
    fct.test_eq(buttons(app), dict(download=False, train=False, predict=False))
    # Step 3: the round made at the end of training, then a new one
    app.predict_button.click()
    assert 'ht-error' not in app.msg3.value, app.msg3.value
    fct.test_eq(app.state.predictions, app.state.run.predictions)
    fct.test_eq((len(app.state.predictions), len(app.card_buttons), len(rows(app))), (10, 10, 10))
    fct.test_eq(len({b.description for b in app.card_buttons}), 10) # a name each: 'Card for post 3'
    assert all(p.startswith('My dream is') and '\ufffd' not in p for p in app.state.predictions), app.state.predictions
    for s in shares(app):
        assert 'href="https://twitter.com/intent/tweet?text=I+love+this+tweet+from+my+AI+bot+of+%40jack+with+%23huggingtweets%3A%0AMy+dream+is' in s
        assert 'href="https://bsky.app/intent/compose?text=I%20love%20this%20tweet%20from%20my%20AI%20bot%20of%20%40jack' in s
    app.predict_button.click() # a new round from the model in memory (`no_reload` fails any load)
    assert 'ht-error' not in app.msg3.value, app.msg3.value
    fct.test_eq(len(app.state.predictions), 10)
    hostile = 'My dream is <img src=x onerror=alert(1)> & more'
    generating = spy(monkeypatch, app, memorize_mod, 'generate_new', result=lambda model, prompt, n, *a, **kw: [Prediction(hostile)] * n)
    app.prompt.value = 'My dream is'
    app.predict_button.click()
    assert generating[0]['kw']['max_rounds'] > 0 # "No copies" on: copies are written again
    table = ''.join(preds_html(app))
    assert table.count('My dream is &lt;img src=x onerror=alert(1)&gt; &amp; more') == 10 and '<img' not in table
    assert '%3Cimg+src%3Dx+onerror%3Dalert%281%29%3E+%26+more' in shares(app)[0] # in the share link, URL-encoded
    # Cards: light, dark, and the thumbnail
    app.card_buttons[2].click()
    card = tmp_path/'models'/'jack'/'predictions'/'3.png'
    im = Image.open(card)
    fct.test_eq((im.size, im.getpixel((5, 5))), (CARD_SIZE, (255, 255, 255)))
    assert len(im.convert('RGB').getcolors(2**16)) > 50 # drawn on, not blank
    img = re.fullmatch(r'<img class="ht-card-img" tabindex="-1" alt="([^"]*)" src="data:image/png;base64,([^"]*)">', app.card_image.value)
    fct.test_eq(base64.b64decode(img[2]), card.read_bytes()) # the card as drawn, with alt text that says what it shows
    fct.test_eq(html.unescape(img[1]), f'Post 3 drawn as a card: "{app.state.predictions[2]}", written by an AI trained on the posts of @jack')
    assert not app.thumb_button.disabled
    app.dark_cards.value = True
    app.card_buttons[0].click()
    fct.test_eq(Image.open(tmp_path/'models'/'jack'/'predictions'/'1.png').convert('RGB').getpixel((5, 5)), (21, 32, 43))
    app.thumb_button.click()
    fct.test_eq((tmp_path/'models'/'jack'/'thumbnail.png').read_bytes(), (tmp_path/'models'/'jack'/'predictions'/'1.png').read_bytes())
    assert 'on the Hub' in app.card_msg.value and 'ht-ok' in app.card_msg.value, app.card_msg.value
    # Every library call ran with every button off, and no step could start meanwhile; all are on again at the end
    fct.test_eq(len(fetching) + len(training) + len(generating), 3)
    for s in fetching + training + generating:
        assert s['download'] and s['train'] and s['predict'] and s['example'] and all(s['cards']), s
        fct.test_eq(s['again'], [False, False, False])
    fct.test_eq(buttons(app), dict(download=False, train=False, predict=False))
    assert not any(b.disabled for b in app.card_buttons)

def test_copies_marked(tmp_path, tiny, archive, monkeypatch, no_reload):
    "A prediction that still copies a training post after the resamplings is marked in its row, escaped; unticking 'No copies' resamples none"
    app = make_app(tmp_path, tiny, max_steps=2, n=3, spec=f'archive:{archive}')
    app.download_button.click()
    app.train_button.click()
    assert 'The neural network is trained' in app.msg2.value, app.msg2.value
    calls = []
    def fake(model, prompt, n, train, *a, **kw):
        calls.append(dict(model=model, train=train, **kw))
        return [Prediction(f'{prompt} new'), Prediction(f'{prompt} {HOSTILE}', copy_of=HOSTILE), Prediction(f'{prompt} fine')][:n]
    monkeypatch.setattr(memorize_mod, 'generate_new', fake)
    app.prompt.value = 'Watch this'
    app.predict_button.click()
    assert calls[0]['model'] is app.state.run.model and calls[0]['max_rounds'] > 0
    assert HOSTILE in calls[0]['train'].texts # the training posts, to tell copies
    cells = preds_html(app)
    fct.test_eq(['Copies a training post' in c for c in cells], [False, True, False])
    assert 'Copies a training post: Watch this &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; move today' in cells[1], cells[1]
    assert '<script>' not in ''.join(cells)
    assert '1 of them copy a training post' in app.msg3.value and 'ht-warn' in app.msg3.value, app.msg3.value
    fct.test_eq(app.state.copies, [None, HOSTILE, None])
    app.no_copies.value = False
    app.predict_button.click()
    fct.test_eq(calls[1]['max_rounds'], 0)

def test_example_account(tmp_path, tiny):
    "The example button fills the first box; the first click of Download works on it"
    app = make_app(tmp_path, tiny)
    app.example_button.click()
    fct.test_eq(app.boxes[0].value, example_spec())
    assert '@wrencrumb' in app.msg1.value
    app.download_button.click()
    assert 'Dataset ready: ' in app.msg1.value and '@wrencrumb' in app.msg1.value, app.msg1.value
    assert '<tr><td>Tweets downloaded</td><td>' in app.out1.value and '@wrencrumb' in app.out1.value
    fct.test_eq([a.handle for a in app.state.dataset.info.accounts], ['wrencrumb'])
    fct.test_eq(buttons(app), dict(download=False, train=False, predict=True))

JA_TOPICS = ['コーヒー', '猫', '天気', '音楽', '読書', '料理', '散歩', '映画']

def test_language_warning(tmp_path, tiny, monkeypatch):
    "Japanese posts: no warning for a local base of unknown languages; one for gpt2, told from its name without loading it"
    posts = [f'今日は{JA_TOPICS[i % 8]}について考えています。{i}日目の記録です。明日もまた{JA_TOPICS[(i + 3) % 8]}の話を書きます。' for i in range(250)]
    f = tmp_path/'yuki.txt'
    f.write_text('\n'.join(posts), encoding='utf-8')
    assert len(''.join(posts)) > 6000
    def refuse(*a, **kw): raise AssertionError('a model was loaded')
    monkeypatch.setattr(train_mod, 'load_base', refuse)
    monkeypatch.setattr(generate_mod, 'load_model', refuse)
    app = make_app(tmp_path, tiny, spec=f'file:{f}')
    app.download_button.click()
    assert 'Dataset ready' in app.msg1.value, app.msg1.value
    assert '<tr><td>Languages</td><td>ja 100%</td></tr>' in app.out1.value, app.out1.value
    assert 'was not trained on' not in app.msg1.value, app.msg1.value
    app.base_model.value = 'gpt2'
    app.download_button.click()
    assert 'Dataset ready' in app.msg1.value and 'ht-error' not in app.msg1.value, app.msg1.value
    assert re.search(r'<div class="ht-msg ht-warn">Most posts are in Japanese \(100%\), which gpt2 was not trained on', app.msg1.value), app.msg1.value

def test_real_archive(tmp_path, tiny, no_reload):
    "A real X archive (2022), where ../shared has one: the original's counts, then a short training and predictions"
    app = make_app(tmp_path, tiny, max_steps=3)
    app.boxes[0].value = f"archive:{shared('data', 'archives', 'andreruffert_2022-11')}"
    app.download_button.click()
    assert '<tr><td>Tweets downloaded</td><td>1,986</td></tr>' in app.out1.value and '<tr><td>Retweets</td><td>643</td></tr>' in app.out1.value
    assert 'Dataset ready' in app.msg1.value
    app.train_button.click()
    assert 'Validation loss: ' in app.out2.value, app.msg2.value
    app.prompt.value = 'Today' # a new round, not the one made at the end of training
    app.predict_button.click()
    fct.test_eq(len(app.state.predictions), 10)
    assert all(p.startswith('Today') for p in app.state.predictions), app.msg3.value

def test_errors_stay_in_their_panel(tmp_path, tiny, monkeypatch):
    app = make_app(tmp_path, tiny)
    app.download_button.click() # no account
    assert app.msg1.value.startswith('<div class="ht-msg ht-error">Enter an account in the first box'), app.msg1.value
    app.boxes[0].value = 'nosuch:thing'
    app.download_button.click()
    assert app.msg1.value.startswith('<div class="ht-msg ht-error">Unknown source &#x27;nosuch&#x27;'), app.msg1.value
    assert 'Traceback' not in app.msg1.value and '<details>' not in app.msg1.value
    app.boxes[0].value = f'archive:{tmp_path}/missing.zip'
    app.download_button.click()
    assert 'No archive at' in app.msg1.value
    fct.test_eq(buttons(app), dict(download=False, train=True, predict=True))
    def boom(*a, **kw): raise RuntimeError('disk on fire\nand more')
    monkeypatch.setattr(app_mod, 'prepare_all', boom)
    app.download_button.click()
    err = app.msg1.value
    assert err.startswith('<div class="ht-msg ht-error">Something went wrong: RuntimeError: disk on fire<details><summary>Details</summary>'), err
    assert 'Traceback (most recent call last)' in err.split('<details>')[1] # folded away
    fct.test_eq(buttons(app), dict(download=False, train=True, predict=True))
    fct.test_eq(app.state.busy, None)

def test_train_error_in_its_panel(tmp_path, tiny, archive):
    "A base model that can't be had: the sentence in step 2's panel, the bar red, the buttons back"
    app = make_app(tmp_path, tiny, spec=f'archive:{archive}')
    app.download_button.click()
    app.base_model.value = str(tmp_path/'no-such-model')
    app.train_button.click()
    assert app.msg2.value.startswith('<div class="ht-msg ht-error">No model folder at'), app.msg2.value
    fct.test_eq((app.progress.bar_style, app.state.run), ('danger', None))
    fct.test_eq(buttons(app), dict(download=False, train=False, predict=True))

def test_too_little_data(tmp_path, tiny):
    small = make_archive(tmp_path/'small.zip', sample_tweets(40), handle='tiny_voice', name='Tiny <Voice>')
    app = make_app(tmp_path, tiny)
    app.boxes[0].value = f'archive:{small}'
    app.download_button.click()
    assert app.msg1.value.startswith('<div class="ht-msg ht-error">@tiny_voice has only ') and 'at least 6,000 are needed' in app.msg1.value, app.msg1.value
    assert '<tr><td>Tweets downloaded</td><td>40</td></tr>' in app.out1.value and 'Tiny &lt;Voice&gt;' in app.out1.value # the table stays
    fct.test_eq(buttons(app), dict(download=False, train=True, predict=True))

def send_file(app, name, data, chunk=7_000):
    "What the upload button's script sends for a file: start, acknowledged pieces, end; the kernel's answers"
    sent, real = [], app.upload.send
    app.upload.send = lambda content, buffers=None: sent.append(content)
    try:
        r = app.receiver
        r.on_msg(app.upload, {'kind': 'start', 'name': name, 'size': len(data)}, [])
        for off in range(0, len(data), chunk):
            if not sent[-1]['go']: break
            r.on_msg(app.upload, {'kind': 'chunk', 'offset': off}, [memoryview(data[off:off + chunk])])
        if sent[-1]['go']: r.on_msg(app.upload, {'kind': 'end', 'name': name, 'size': len(data)}, [])
    finally: app.upload.send = real
    return sent

def test_upload(tmp_path, tiny, archive):
    "A zip sent in pieces lands in the first empty box, with the bytes received shown on the way; a tweets.js alone works; a wrong file or one too large is refused at once"
    app = make_app(tmp_path, tiny, host='colab') # Colab's way round the limit: its Files panel
    app.boxes[0].value = 'bluesky:alice.bsky.social'
    data = archive.read_bytes()
    shown = []
    app.msg1.observe(lambda ch: shown.append(ch['new']), 'value')
    acks = send_file(app, 'my archive (1).zip', data)
    dest = tmp_path/'data'/'uploads'/'my_archive_1.zip'
    fct.test_eq((dest.read_bytes() == data, app.boxes[1].value, len(acks)), (True, f'archive:{dest}', 1 + -(-len(data) // 7_000)))
    assert any(re.search(r'Uploading my archive \(1\).zip: [\d.]+ MB of [\d.]+ MB \(\d+%\)', m) for m in shown), shown
    assert 'Uploaded my archive (1).zip' in app.msg1.value and '301 posts of @jack' in app.msg1.value and 'Account 2' in app.msg1.value, app.msg1.value
    fct.test_eq(list((tmp_path/'data'/'uploads').glob('.upload-*')), [])
    # its tweets.js alone
    import zipfile
    with zipfile.ZipFile(archive) as z: js = z.read('data/tweets.js')
    send_file(app, 'tweets.js', js)
    assert 'does not say whose they are' in app.msg1.value, app.msg1.value # a tweets.js alone names no owner: asked
    app.handle_box.value = '@jack'
    app.handle_button.click()
    assert app.boxes[2].value.startswith('archive:') and '301 posts of @jack' in app.msg1.value, app.msg1.value
    app.boxes[2].value = ''
    # refused: not an archive's file; in the browser, over the limit; a zip that is not an X archive
    fct.test_eq(send_file(app, 'notes.txt', b'hi'), [{'kind': 'ack', 'go': False}])
    assert 'is not a .zip nor a .js' in app.msg1.value
    app.receiver.on_msg(app.upload, {'kind': 'refused', 'name': 'twitter-2024.zip', 'size': 3 * 10**9}, [])
    assert app.msg1.value.startswith('<div class="ht-msg ht-error">twitter-2024.zip is 3.00 GB, more than the 314.6 MB this page takes: upload data/tweets.js'), app.msg1.value
    assert 'archive:/content/twitter-2024.zip' in app.msg1.value and app.msg1.value.count('. ') == 0 # one sentence
    send_file(app, 'photos.zip', make_zip_without_tweets(tmp_path))
    assert 'has no data/tweets.js' in app.msg1.value and app.boxes[2].value == '', app.msg1.value
    fct.test_eq(app.upload.max_bytes, 300 * 2**20)

def make_zip_without_tweets(tmp):
    import io, zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z: z.writestr('photo.txt', 'not an archive')
    return b.getvalue()

def test_nothing_lost(tmp_path, tiny, archive, monkeypatch):
    "A trained model with its predictions survives a retrain that fails (Push ticked, no token), a mistyped account and four accounts in one box"
    for k in ('HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'X_BEARER_TOKEN'): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('HF_HOME', str(tmp_path/'hf')) # no saved login
    monkeypatch.setenv('HF_TOKEN_PATH', str(tmp_path/'hf'/'token'))
    app = make_app(tmp_path, tiny, max_steps=2, n=3, spec=f'archive:{archive}', host='colab') # Colab's words: Secrets
    app.download_button.click()
    app.train_button.click()
    app.predict_button.click()
    app.card_buttons[1].click()
    run, preds, ds = app.state.run, list(app.state.predictions), app.state.dataset
    before = dict(out1=app.out1.value, out2=app.out2.value, curve=app.curve.value, msg3=app.msg3.value, table=preds_html(app))
    def same():
        fct.test_eq((app.state.run, app.state.predictions, app.state.dataset), (run, preds, ds))
        fct.test_eq(dict(out1=app.out1.value, out2=app.out2.value, curve=app.curve.value, msg3=app.msg3.value, table=preds_html(app)), before)
        fct.test_eq(buttons(app), dict(download=False, train=False, predict=False))
    loaded = spy(monkeypatch, app, train_mod, 'load_base')
    app.push.value = True
    app.train_button.click()
    assert 'No Hugging Face token' in app.msg2.value and 'Secrets' in app.msg2.value and 'set-up cell' in app.msg2.value, app.msg2.value
    assert 'The model trained before, on @jack, is kept, with its predictions in step 3.' in app.msg2.value, app.msg2.value
    fct.test_eq(loaded, []) # refused before any loading
    same()
    assert 'Loading' not in app.progress_label.value and app.progress.bar_style == 'danger' and 'Stopped' in app.progress_label.value
    app.push.value = False
    app.boxes[0].value = f'archive:{tmp_path}/nosuch.zip' # mistyped
    app.download_button.click()
    assert 'No archive at' in app.msg1.value and 'steps 2 and 3 still use @jack' in app.msg1.value, app.msg1.value
    same()
    app.boxes[0].value = 'karpathy, ylecun, jack, biz'
    app.download_button.click()
    assert 'Put one account a box, three at most: &quot;karpathy, ylecun, jack, biz&quot; holds 4.' in app.msg1.value, app.msg1.value
    same()
    app.boxes[0].value = 'karpathy' # no X token: not an answer about snscrape
    app.download_button.click()
    assert 'X_BEARER_TOKEN' in app.msg1.value and 'Secrets' in app.msg1.value and 'snscrape' not in app.msg1.value, app.msg1.value
    same()
    app.base_model.value = str(tmp_path/'no-such-model') # a base that can't be had: said before the download and before training
    app.boxes[0].value = f'archive:{archive}'
    app.train_button.click()
    assert 'No model folder at' in app.msg2.value and '--' not in app.msg2.value, app.msg2.value
    same()
    # a new download that works: the model trained before stays in step 3 until the next training
    app.base_model.value = str(tiny)
    jill = make_archive(tmp_path/'jill.zip', sample_tweets(300, handle='jill'), handle='jill', name='Jill')
    app.boxes[0].value = f'archive:{jill}'
    app.download_button.click()
    assert 'Dataset ready' in app.msg1.value and 'The model trained on @jack stays in step 3' in app.msg2.value, app.msg2.value
    app.predict_button.click()
    assert '%40jack' in shares(app)[0] and app.state.run is run

def test_worse_than_base(tmp_path, tiny, archive):
    "A learning rate of 1: a training that ends worse than its base (or diverges) is a failure in red that says what to change, with no perplexity"
    app = make_app(tmp_path, tiny, max_steps=4, n=2, spec=f'archive:{archive}', learning_rate=1.0)
    app.download_button.click()
    t0 = __import__('time').monotonic()
    app.train_button.click()
    waited = __import__('time').monotonic() - t0
    msg = app.msg2.value
    assert 'ht-error' in msg and ('worse than its base' in msg or 'diverged' in msg), msg
    assert 'learning rate' in msg and '--' not in msg, msg
    fct.test_eq(app.progress.bar_style, 'danger')
    assert 'perplexity' not in app.out2.value, app.out2.value
    if app.state.run: # worse, not diverged: the wait the user had, not the training loop's
        secs = int(re.search(r'Done in (\d+) s', app.progress_label.value).group(1))
        assert abs(secs - waited) <= 1, (app.progress_label.value, waited)

def test_words_and_keys(tmp_path, tiny, archive):
    "Labels on the boxes, Enter submits, Advanced is a button, the example does not overwrite an upload, no command-line flags"
    from huggingtweets.core import UserError
    app = make_app(tmp_path, tiny, max_steps=2, n=2)
    fct.test_eq([b.description for b in app.boxes] + [app.prompt.description], ['Account 1', 'Account 2', 'Account 3', 'Prompt'])
    assert isinstance(app.advanced, W.ToggleButton) and app.settings.layout.display == 'none'
    app.advanced.value = True
    assert app.settings.layout.display is None
    app.boxes[0].value = f'archive:{archive}'
    app.example_button.click()
    fct.test_eq((app.boxes[0].value, app.boxes[1].value), (f'archive:{archive}', example_spec()))
    assert 'Account 2' in app.msg1.value and 'clear the other boxes' in app.msg1.value, app.msg1.value
    app.boxes[1].value = ''
    app.boxes[0]._handle_msg({'content': {'data': {'method': 'custom', 'content': {'event': 'submit'}}}, 'buffers': []}) # Enter, as the browser sends it
    assert 'Dataset ready' in app.msg1.value and 'shuffled 4 times' in app.msg1.value and 'epochs' not in app.msg1.value, app.msg1.value
    app.train_button.click()
    app.prompt.value = 'Today'
    app.prompt._handle_msg({'content': {'data': {'method': 'custom', 'content': {'event': 'submit'}}}, 'buffers': []})
    fct.test_eq(len(app.state.predictions), 2)
    for e in ["Training diverged (the loss became nan): train again with a lower --learning-rate than 1.",
              "learning_rate must be a positive number, not -1: change it, or leave it out for the default.",
              "x The model is saved in m: push it later with `huggingtweets push m`."]:
        h = app_mod.error_html(UserError(e))
        assert '--' not in h and 'leave it out' not in h and 'huggingtweets push' not in h, h

class FakeHub:
    "Stands in for `HfApi`: records what it is sent and the README it would upload; `fail` is raised by the next upload"
    def __init__(self, token='hf_fake'): self.token, self.calls, self.fail, self.readme = token, [], None, None
    def whoami(self): return {'name': 'me'}
    def create_repo(self, repo_id, **kw): self.calls.append(('create_repo', repo_id)); return f'https://huggingface.co/{repo_id}'
    def upload_folder(self, folder_path, repo_id, **kw):
        if self.fail: raise self.fail
        self.calls.append(('upload_folder', repo_id, kw.get('ignore_patterns'), kw.get('commit_message')))
        self.readme = (Path(folder_path)/'README.md').read_text()

def texts(app):
    "Every value, description, tooltip and placeholder the app's widgets show"
    seen, out, todo = set(), [], [app.step1, app.step2, app.step3]
    while todo:
        w = todo.pop()
        if id(w) in seen: continue
        seen.add(id(w))
        todo += [c for c in getattr(w, 'children', ()) if isinstance(c, W.Widget)]
        for k in ('value', 'description', 'tooltip', 'placeholder'):
            v = getattr(w, k, None)
            out.append(v.decode('latin-1') if isinstance(v, bytes) else str(v))
    return out

def test_cyborg_pushed_with_thumbnail(tmp_path, tiny, archive, monkeypatch):
    jill = make_archive(tmp_path/'jill.zip', sample_tweets(300, handle='jill'), handle='jill', name='Jill')
    hub = FakeHub()
    app = App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models'), base_model=str(tiny), block_size=64, max_steps=5,
                        wandb='disabled', avatars=False, spec=f'archive:{archive}', spec2=f'archive:{jill}', spec3=f' archive:{archive}', push=True), hub_api=hub)
    seen, real = [], clean_mod.prepare # what the panel shows as each account is fetched
    def prepare(spec, *a, **kw): seen.append((spec, app.msg1.value, app.out1.value)); return real(spec, *a, **kw)
    monkeypatch.setattr(clean_mod, 'prepare', prepare)
    app.download_button.click()
    assert 'Dataset ready: 481 posts of @jack &amp; @jill' in app.msg1.value, app.msg1.value
    fct.test_eq([s.value for s, *_ in seen], [str(archive), str(jill)]) # the repeat is dropped
    assert f'Downloading archive:{archive} (1 of 2)' in seen[0][1] and seen[0][2] == ''
    assert f'Downloading archive:{jill} (2 of 2)' in seen[1][1] and '@jack' in seen[1][2] and '@jill' not in seen[1][2] # the first table shows
    fct.test_eq([a.handle for a in app.state.dataset.info.accounts], ['jack', 'jill'])
    app.train_button.click()
    assert '<a href="https://huggingface.co/me/jack-jill" target="_blank" rel="noopener">me/jack-jill</a> on the Hub' in app.out2.value, app.msg2.value
    app.predict_button.click()
    s = shares(app)[0]
    assert 'AI+cyborg+of+%40jack+%26+%40jill' in s and '&amp;url=https%3A%2F%2Fhuggingface.co%2Fme%2Fjack-jill"' in s
    assert '%0Ahttps%3A%2F%2Fhuggingface.co%2Fme%2Fjack-jill"' in s # Bluesky: the link ends the text
    app.card_buttons[0].click()
    n = len(hub.calls)
    app.thumb_button.click()
    # pushed again by `pipeline.publish`: the card, rewritten, links the thumbnail; the drawn cards stay local
    fct.test_eq(hub.calls[n:], [('create_repo', 'me/jack-jill'), ('upload_folder', 'me/jack-jill', LOCAL_ONLY, 'Set the thumbnail')])
    assert 'predictions/*' in LOCAL_ONLY
    assert 'thumbnail: https://huggingface.co/me/jack-jill/resolve/main/thumbnail.png' in hub.readme
    assert 'https://huggingface.co/me/jack-jill' in hub.readme
    assert 'now shows this prediction' in app.card_msg.value
    # a Hub failure is the library's sentence, and the card on disk is left as it was; a programming error is shown as one, its traceback folded away
    readme = (app.state.run.folder/'README.md').read_text()
    import httpx2
    from huggingface_hub.utils import hf_raise_for_status
    try: hf_raise_for_status(httpx2.Response(503, request=httpx2.Request('POST', 'https://huggingface.co/api/x'), json={'error': 'busy'}))
    except Exception as e: hub.fail = e
    app.thumb_button.click()
    assert app.card_msg.value.startswith('<div class="ht-msg ht-error">The Hugging Face Hub answered HTTP 503 while pushing to me/jack-jill'), app.card_msg.value
    assert 'Traceback' not in app.card_msg.value
    fct.test_eq((app.state.run.folder/'README.md').read_text(), readme)
    hub.fail = TypeError('a bug')
    app.thumb_button.click()
    assert app.card_msg.value.startswith('<div class="ht-msg ht-error">Something went wrong: TypeError: a bug<details>'), app.card_msg.value

def test_push_button(tmp_path, tiny, archive, monkeypatch):
    "Step 3's button publishes the model trained without a push, with the token of Colab's Secrets; with none, it says where to put one"
    import sys, types
    for k in ('HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('HF_HOME', str(tmp_path/'hf')); monkeypatch.setenv('HF_TOKEN_PATH', str(tmp_path/'hf'/'token'))
    app = make_app(tmp_path, tiny, max_steps=2, n=2, spec=f'archive:{archive}', host='colab')
    app.download_button.click()
    app.train_button.click()
    app.predict_button.click()
    app.card_buttons[1].click()
    app.thumb_button.click()
    assert 'click &quot;Push to the Hub&quot;' in app.card_msg.value, app.card_msg.value
    app.hub_button.click()
    assert 'No Hugging Face token' in app.hub_msg.value and 'Secrets' in app.hub_msg.value, app.hub_msg.value
    hub = FakeHub(token=None) # the token must come from Colab's Secrets
    app.hub_api = hub
    colab = types.ModuleType('google.colab')
    colab.userdata = types.SimpleNamespace(get=lambda k: 'hf_fromsecrets' if k == 'HF_TOKEN' else None)
    monkeypatch.setitem(sys.modules, 'google', types.ModuleType('google'))
    monkeypatch.setitem(sys.modules, 'google.colab', colab)
    app.hub_button.click()
    fct.test_eq(hub.calls, [('create_repo', 'me/jack'), ('upload_folder', 'me/jack', LOCAL_ONLY, 'Upload huggingtweets model')])
    fct.test_eq(app.state.push.token, 'hf_fromsecrets')
    assert 'The model is on the Hub with its thumbnail: <a href="https://huggingface.co/me/jack"' in app.hub_msg.value, app.hub_msg.value
    assert 'thumbnail: https://huggingface.co/me/jack/resolve/main/thumbnail.png' in hub.readme
    shown = [p for p, c in zip(app.state.predictions, app.state.copies) if c is None]
    assert shown and '## Posts it wrote' in hub.readme and all(md_text(p) in hub.readme for p in shown) # the round on screen, on the card
    assert '&amp;url=https%3A%2F%2Fhuggingface.co%2Fme%2Fjack"' in shares(app)[0] # the share links point to it
    assert app.card_box in app.table.children and app.table.children.index(app.card_box) == 2 # the card still below its row
    assert 'on the Hub' in app.out2.value

SECRET = 'hf_SECRETtoken1234567890'

def test_token_never_shown(tmp_path, tiny, archive, monkeypatch):
    "The Hub token, from HF_TOKEN or the stand-in client, is neither in the state's repr nor in any widget"
    monkeypatch.setenv('HF_TOKEN', SECRET)
    hub = FakeHub(token=SECRET)
    app = make_app(tmp_path, tiny, max_steps=2, n=2, push=True, spec=f'archive:{archive}')
    app.hub_api = hub
    app.download_button.click()
    app.train_button.click()
    assert 'on the Hub' in app.out2.value, app.msg2.value
    fct.test_eq(app.state.push.token, SECRET) # it is there, to push the thumbnail later
    app.predict_button.click()
    app.card_buttons[0].click()
    app.thumb_button.click()
    assert 'now shows this prediction' in app.card_msg.value
    hub.fail = RuntimeError(f'refused {SECRET}') # an error that quotes it
    app.thumb_button.click()
    assert app.card_msg.value.startswith('<div class="ht-msg ht-error">Something went wrong: RuntimeError: refused ***<details>'), app.card_msg.value
    for shown in [repr(app.state), repr(app.state.run), app.state.log, *texts(app)]: assert SECRET not in shown
    assert SECRET not in (app.state.run.folder/'README.md').read_text() + (app.state.run.folder/'huggingtweets.json').read_text()

def test_offline_runs_where_wandb_put_them(tmp_path, tiny, archive, monkeypatch):
    "Offline, the result names the run folders W&B wrote, under WANDB_DIR, and the `wandb sync` command that uploads them"
    for k in ('WANDB_API_KEY', 'WANDB_MODE', 'WANDB_DISABLED', 'WANDB_BASE_URL', 'WANDB_IDENTITY_TOKEN_FILE'): monkeypatch.delenv(k, raising=False)
    for k in ('WANDB_DATA_DIR', 'WANDB_CACHE_DIR', 'WANDB_CONFIG_DIR', 'WANDB_ARTIFACT_DIR'): monkeypatch.setenv(k, str(tmp_path/k.lower()))
    monkeypatch.setenv('HOME', str(tmp_path/'home'))
    monkeypatch.setenv('WANDB_DIR', str(tmp_path/'elsewhere'))
    app = make_app(tmp_path, tiny, max_steps=2, n=2, wandb='auto', spec=f'archive:{archive}') # no key: offline
    app.download_button.click()
    app.train_button.click()
    runs = sorted((tmp_path/'elsewhere'/'wandb').glob('offline-run-*'))
    fct.test_eq(len(runs), 2) # preprocess and train
    fct.test_eq(sorted(app.state.run.wandb_dirs), runs)
    m = re.search(r'<div>W&amp;B ran offline; to upload the runs, copy: <input class="ht-copy" readonly [^>]*value="wandb sync ([^"]+)"></div>', app.out2.value)
    assert m, app.out2.value # one short line, the command in a box to copy
    fct.test_eq(set(m.group(1).split()), {str(r) for r in runs})

def test_base_checked_at_once(tmp_path, tiny, monkeypatch):
    "A Hub id the Hub can't be reached for, or does not know, is said before anything loads; a folder or a cached id asks nothing"
    import huggingface_hub.constants as hc
    from huggingface_hub.errors import RepositoryNotFoundError
    from huggingtweets.core import UserError
    monkeypatch.setattr(hc, 'HF_HUB_OFFLINE', False)
    monkeypatch.setenv('HF_HUB_CACHE', str(tmp_path/'cache'))
    class Api:
        def __init__(self, fail): self.fail, self.asked = fail, []
        def model_info(self, name, timeout=None): self.asked.append((name, timeout)); raise self.fail
    down = Api(ConnectionError('no route'))
    with pytest.raises(UserError, match=r'Could not reach the Hugging Face Hub to download distilgpt2 \(ConnectionError\)'): app_mod.check_base('distilgpt2', down)
    assert down.asked[0][1] <= 10 # seconds, not minutes
    import httpx2
    gone = Api(RepositoryNotFoundError('404', response=httpx2.Response(404, request=httpx2.Request('GET', 'https://huggingface.co/api/models/x'))))
    with pytest.raises(UserError, match='is not a model on the Hugging Face Hub'): app_mod.check_base('me/nosuch', gone)
    untouched = Api(AssertionError('asked'))
    app_mod.check_base(str(tiny), untouched)
    fct.test_eq(untouched.asked, [])
