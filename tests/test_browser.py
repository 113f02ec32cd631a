"""The demo in a real browser: Voila serves huggingtweets-demo.ipynb on 127.0.0.1, headless Chromium (Debian's, driven by Playwright)
uploads a 16 MB archive, goes through the three steps by mouse and keyboard, fails a retrain without losing the model, then checks the
page at 400 px wide; screenshots land in test-output/ (git-ignored). One Voila session for all of it: each costs seconds of start."""
import os, re, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from util import ROOT
from test_demo import DEMO, demo_env
from util import readable_tiny_model

CHROMIUM = os.environ.get('HUGGINGTWEETS_CHROMIUM', '/usr/bin/chromium')
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--no-first-run', '--disable-quic']
SHOTS = ROOT/'test-output'

def _missing(name):
    import importlib.util
    return importlib.util.find_spec(name) is None

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def _wait_http(url, proc, log, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: pytest.fail(f'voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    pytest.fail(f'voila did not answer at {url} within {timeout} s:\n{log.read_text()[-3000:]}')

@pytest.fixture
def voila(tmp_path):
    "Voila serving the demo with a tiny model, in its own process group, stopped (with its kernel) at the end"
    if _missing('playwright'): pytest.skip('playwright (the Python package) is not installed')
    if _missing('voila'): pytest.skip('voila is not installed')
    if not Path(CHROMIUM).exists(): pytest.skip(f'no Chromium at {CHROMIUM}: apt-get install -y chromium')
    from huggingtweets.demo import EXAMPLE
    from huggingtweets.files import read_archive
    tiny = readable_tiny_model(tmp_path/'tiny-gpt2', [p.text for p in read_archive(EXAMPLE).posts], post_end=1.5) # its words, a line or two: readable screenshots
    port, log = _free_port(), tmp_path/'voila.log'
    env = os.environ | demo_env(tmp_path, tiny)
    env.pop('HUGGINGTWEETS_SPEC', None); env.pop('HUGGINGTWEETS_AUTORUN', None) # the browser types and clicks
    for k in ('HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'): env.pop(k, None)
    env |= dict(HF_HOME=str(tmp_path/'hf'), HF_TOKEN_PATH=str(tmp_path/'hf'/'token')) # no token anywhere: a push is refused
    with open(log, 'w') as f:
        proc = subprocess.Popen([sys.executable, '-m', 'voila', str(DEMO), '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1'],
                                cwd=tmp_path, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f'http://127.0.0.1:{port}/'
        _wait_http(url, proc, log)
        yield dict(url=url, log=log, tmp=tmp_path)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM) # voila and the kernel it started: its process group
            try: proc.wait(15)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait()

def big_archive(dest:Path, mb:int=16)->Path:
    "The example account as an X archive zip of `mb` MB: its posts, and a video that does not compress, as real archives carry"
    import zipfile
    from huggingtweets.demo import EXAMPLE
    with zipfile.ZipFile(dest, 'w') as z:
        for f in Path(EXAMPLE).rglob('*'):
            if f.is_file(): z.write(f, f.relative_to(EXAMPLE).as_posix())
        z.writestr('data/tweets_media/1-video.mp4', os.urandom(mb * 10**6), compress_type=zipfile.ZIP_STORED)
    return dest

def in_view(page, locator)->bool:
    "Whether the element's box lies within the viewport, top to bottom"
    b, h = locator.bounding_box(), page.viewport_size['height']
    return b is not None and b['y'] >= 0 and b['y'] + b['height'] <= h

def test_three_steps_in_chromium(voila):
    from playwright.sync_api import sync_playwright, expect
    SHOTS.mkdir(exist_ok=True)
    big = big_archive(voila['tmp']/'twitter-2026-wrencrumb.zip')
    assert big.stat().st_size > 16 * 10**6
    t0 = time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 2000}) # tall: Voila scrolls inside its page, and a screenshot holds only what is in view
            page.goto(voila['url'], timeout=120_000)
            box = page.get_by_label('Account 1')
            expect(box).to_be_visible(timeout=120_000) # the kernel has run the notebook
            # Step 1: a 16 MB upload arrives (in pieces, under the websocket's 10 MiB), its progress shown
            page.locator('.ht-step1 input.ht-file').set_input_files(str(big))
            expect(page.get_by_text('posts of @wrencrumb, in Account 1')).to_be_visible(timeout=60_000)
            expect(box).to_have_value(re.compile(r'^archive:.*twitter-2026-wrencrumb\.zip$'))
            page.get_by_role('button', name='Try the example account').click() # does not take the upload's box
            expect(page.get_by_label('Account 2')).to_have_value(re.compile(r'^archive:.*demo$'))
            page.get_by_label('Account 2').fill('')
            box.press('Enter') # Enter downloads
            expect(page.get_by_text('Dataset ready')).to_be_visible(timeout=60_000)
            expect(page.locator('.ht-step1 table.ht-table')).to_contain_text('@wrencrumb')
            page.locator('.ht-step1').screenshot(path=str(SHOTS/'demo-step1-accounts.png'))
            # Step 2, Advanced opened from the keyboard
            adv = page.get_by_role('button', name='Advanced settings')
            adv.focus(); page.keyboard.press('Enter')
            expect(page.get_by_label('Base model')).to_be_visible()
            adv.press('Enter')
            expect(page.get_by_label('Base model')).to_be_hidden()
            page.get_by_role('button', name='Train Neural Network').click()
            expect(page.get_by_text('Validation loss:')).to_be_visible(timeout=120_000)
            expect(page.locator('svg.ht-curve')).to_be_visible() # the loss curve
            assert page.locator('svg.ht-curve polyline').count() == 1
            expect(page.get_by_text(re.compile(r'^Done in \d+ s: '))).to_be_visible()
            page.locator('.ht-step2').screenshot(path=str(SHOTS/'demo-step2-training.png'))
            # Step 3: Tab from the prompt reaches its button; Enter in the prompt writes posts
            prompt = page.get_by_label('Prompt')
            prompt.focus(); page.keyboard.press('Tab')
            expect(page.get_by_role('button', name='Run predictions')).to_be_focused()
            prompt.press('Enter')
            preds = page.locator('.ht-predictions .ht-pred')
            expect(preds).to_have_count(10, timeout=60_000)
            texts = preds.all_inner_texts()
            assert all(re.sub(r'^\d+\.\s*', '', t).startswith('My dream is') and '\ufffd' not in t for t in texts), texts
            page.get_by_role('button', name='Card for post 1', exact=True).click() # the first prediction as a PNG card
            expect(page.get_by_text('Card 1 saved to')).to_be_visible(timeout=30_000)
            expect(page.get_by_role('button', name='Use as model card thumbnail')).to_be_enabled()
            expect(page.locator('.ht-step3 img')).to_be_visible()
            page.locator('.ht-step3').screenshot(path=str(SHOTS/'demo-step3-predictions.png'))
            assert (voila['tmp']/'models'/'wrencrumb'/'predictions'/'1.png').exists()
            links = page.locator('.ht-predictions .ht-share a')
            assert links.count() == 20
            assert links.nth(0).get_attribute('href').startswith('https://twitter.com/intent/tweet?text=I+love+this+tweet+from+my+AI+bot+of+%40wrencrumb')
            assert links.nth(1).get_attribute('href').startswith('https://bsky.app/intent/compose?text=I%20love%20this%20tweet')
            page.screenshot(path=str(SHOTS/'demo-1280.png'), full_page=True)
            # A failed retrain (Push ticked, no token) keeps the model and its predictions
            adv.click()
            page.get_by_label('Push to the Hugging Face Hub after training').check()
            page.get_by_role('button', name='Train Neural Network').click()
            expect(page.get_by_text('No Hugging Face token')).to_be_visible(timeout=30_000)
            expect(page.get_by_text('is kept, with its predictions in step 3')).to_be_visible()
            expect(preds).to_have_count(10)
            assert preds.all_inner_texts() == texts
            expect(page.get_by_role('button', name='Run predictions')).to_be_enabled()
            expect(page.get_by_text(re.compile(r'^Stopped after'))).to_be_visible()
            page.get_by_label('Push to the Hugging Face Hub after training').uncheck()
            # 400 px wide: nothing past the right edge, the text of a post at least 200 px wide, the card in view after its click
            page.set_viewport_size({'width': 400, 'height': 800})
            page.wait_for_timeout(500)
            over = page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')
            assert over[0] <= over[1], over
            widths = page.locator('.ht-predictions .ht-pred').evaluate_all('els => els.map(e => e.getBoundingClientRect().width)')
            assert min(widths) >= 200, widths
            page.get_by_role('button', name='Card for post 3', exact=True).click()
            expect(page.get_by_text('Card 3 saved to')).to_be_visible(timeout=30_000)
            page.wait_for_timeout(500)
            assert in_view(page, page.locator('.ht-card img')), page.locator('.ht-card img').bounding_box()
            page.screenshot(path=str(SHOTS/'demo-400.png'))
            page.set_viewport_size({'width': 400, 'height': 4000})
            page.screenshot(path=str(SHOTS/'demo-400-full.png'))
            page.set_viewport_size({'width': 1280, 'height': 2000})
            # A training that makes the model worse than its base is flagged, with what to change
            page.get_by_label('Learning rate').fill('1') # Advanced is still open
            page.get_by_role('button', name='Train Neural Network').click()
            expect(page.locator('.ht-step2 .ht-error').first).to_contain_text(re.compile('worse than its base|diverged'), timeout=120_000)
            expect(page.locator('.ht-step2 .ht-error').first).to_contain_text('learning rate')
            assert page.locator('.jp-OutputArea-output pre, .jp-RenderedText').filter(has_text='Traceback').count() == 0
        finally:
            browser.close()
    print(f'browser flow: {time.time() - t0:.1f} s; screenshots in {SHOTS}')
