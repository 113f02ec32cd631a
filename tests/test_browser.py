"""The demo in a real browser: Voila serves huggingtweets-demo.ipynb on 127.0.0.1, headless Chromium (Debian's, driven by Playwright)
picks the example account and clicks through the three steps; a screenshot of each lands in test-output/ (git-ignored)."""
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

def test_three_clicks_in_chromium(voila):
    from playwright.sync_api import sync_playwright, expect
    SHOTS.mkdir(exist_ok=True)
    t0 = time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 2000}) # tall: Voila scrolls inside its page, and a screenshot holds only what is in view
            page.goto(voila['url'], timeout=120_000)
            box = page.get_by_placeholder('Account: a handle', exact=False)
            expect(box).to_be_visible(timeout=120_000) # the kernel has run the notebook
            page.get_by_role('button', name='Try the example account').click()
            expect(box).to_have_value(re.compile(r'^archive:.*demo$'))
            page.get_by_role('button', name='Download tweets').click()
            expect(page.get_by_text('Dataset ready')).to_be_visible(timeout=60_000)
            expect(page.locator('.ht-step1 table.ht-table')).to_contain_text('@wrencrumb')
            page.locator('.ht-step1').screenshot(path=str(SHOTS/'demo-step1-accounts.png'))

            page.get_by_role('button', name='Train Neural Network').click()
            expect(page.get_by_text('Validation loss:')).to_be_visible(timeout=120_000)
            expect(page.locator('svg.ht-curve')).to_be_visible() # the loss curve
            assert page.locator('svg.ht-curve polyline').count() == 1
            page.locator('.ht-step2').screenshot(path=str(SHOTS/'demo-step2-training.png'))

            page.get_by_role('button', name='Run predictions').click()
            preds = page.locator('.ht-predictions .ht-pred')
            expect(preds).to_have_count(10, timeout=60_000)
            texts = preds.all_inner_texts()
            assert all(t.startswith('My dream is') and '\ufffd' not in t for t in texts), texts
            page.locator('.ht-predictions button').first.click() # the first prediction as a PNG card
            expect(page.get_by_text('Card 1 saved to')).to_be_visible(timeout=30_000)
            expect(page.get_by_role('button', name='Use as model card thumbnail')).to_be_enabled()
            expect(page.locator('.ht-step3 img')).to_be_visible()
            page.locator('.ht-step3').screenshot(path=str(SHOTS/'demo-step3-predictions.png'))

            links = page.locator('.ht-predictions .ht-share a')
            assert links.count() == 20
            assert links.nth(0).get_attribute('href').startswith('https://twitter.com/intent/tweet?text=I+love+this+tweet+from+my+AI+bot+of+%40wrencrumb')
            assert links.nth(1).get_attribute('href').startswith('https://bsky.app/intent/compose?text=I%20love%20this%20tweet')
            assert page.locator('.jp-OutputArea-output pre, .jp-RenderedText').filter(has_text='Traceback').count() == 0
        finally:
            browser.close()
    assert (voila['tmp']/'models'/'wrencrumb'/'predictions'/'1.png').exists()
    print(f'browser flow: {time.time() - t0:.1f} s; screenshots in {SHOTS}')
