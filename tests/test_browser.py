"""The demo in a real browser, in both hosts a user meets it in: Voila and JupyterLab serve huggingtweets-demo.ipynb on 127.0.0.1, and
headless Chromium (Debian's, driven by Playwright) goes through the three steps by mouse and keyboard. Voila: a 16 MB archive, a failed
retrain that keeps the model, a phone's 390 px. JupyterLab: Run All, two uploads both named tweets.js, the card reached by keyboard, a
page reload, a kernel restart that finds the model, 390 px. axe-core (npm's, see tools/test.sh) checks the app after each step: no
critical or serious violation. Screenshots land in test-output/ (git-ignored). One server session a test: each costs seconds of start."""
import json, os, re, shutil, signal, socket, subprocess, sys, time, urllib.request, warnings
from contextlib import contextmanager
from pathlib import Path
import pytest
from util import ROOT
from test_demo import DEMO, demo_env
from util import readable_tiny_model, make_archive, sample_tweets
import zipfile

CHROMIUM = os.environ.get('HUGGINGTWEETS_CHROMIUM', '/usr/bin/chromium')
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--no-first-run', '--disable-quic']
SHOTS = ROOT/'test-output'
AXE = Path(os.environ.get('HUGGINGTWEETS_AXE', ROOT/'.axe'/'node_modules'/'axe-core'/'axe.min.js')) # npm install --prefix .axe axe-core

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
        if proc.poll() is not None: pytest.fail(f'{log.stem} exited with {proc.returncode}:\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    pytest.fail(f'{log.stem} did not answer at {url} within {timeout} s:\n{log.read_text()[-3000:]}')

def _browser_ready():
    if _missing('playwright'): pytest.skip('playwright (the Python package) is not installed')
    if not Path(CHROMIUM).exists(): pytest.skip(f'no Chromium at {CHROMIUM}: apt-get install -y chromium')

def _demo_env(tmp_path):
    "The demo's settings with a tiny model that writes the example account's words (readable screenshots), and no token anywhere"
    from huggingtweets.demo import EXAMPLE
    from huggingtweets.files import read_archive
    tiny = readable_tiny_model(tmp_path/'tiny-gpt2', [p.text for p in read_archive(EXAMPLE).posts], post_end=1.5) # its words, a line or two
    env = os.environ | demo_env(tmp_path, tiny)
    env.pop('HUGGINGTWEETS_SPEC', None); env.pop('HUGGINGTWEETS_AUTORUN', None) # the browser types and clicks
    for k in ('HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'): env.pop(k, None)
    return env | dict(HF_HOME=str(tmp_path/'hf'), HF_TOKEN_PATH=str(tmp_path/'hf'/'token')) # a push is refused

@contextmanager
def _serve(cmd, tmp_path, env, url, name):
    "Run `cmd` in its own process group until `url` answers; stop it (and the kernels it started) at the end"
    log = tmp_path/f'{name}.log'
    with open(log, 'w') as f:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_http(url, proc, log)
        yield dict(url=url, log=log, tmp=tmp_path)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM) # the server and the kernels it started: its process group
            try: proc.wait(15)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait()

@pytest.fixture
def voila(tmp_path):
    "Voila serving the demo with a tiny model, in its own process group, stopped (with its kernel) at the end"
    _browser_ready()
    if _missing('voila'): pytest.skip('voila is not installed')
    port = _free_port()
    with _serve([sys.executable, '-m', 'voila', str(DEMO), '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1'],
                tmp_path, _demo_env(tmp_path), f'http://127.0.0.1:{port}/', 'voila') as v: yield v

@pytest.fixture
def lab(tmp_path):
    "JupyterLab with the demo notebook (a copy) in its root, no token, no news or update checks, its settings in `tmp_path`"
    _browser_ready()
    if _missing('jupyterlab'): pytest.skip('jupyterlab is not installed')
    shutil.copy(DEMO, tmp_path/DEMO.name)
    settings = tmp_path/'lab-settings'/'@jupyterlab'/'apputils-extension'
    settings.mkdir(parents=True)
    (settings/'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    env = _demo_env(tmp_path) | dict(JUPYTERLAB_SETTINGS_DIR=str(tmp_path/'lab-settings'), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path/'lab-ws'),
                                     JUPYTER_CONFIG_DIR=str(tmp_path/'jupyter-config'))
    port = _free_port()
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ServerApp.ip=127.0.0.1', '--IdentityProvider.token=',
           '--ServerApp.password=', f'--ServerApp.root_dir={tmp_path}', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--LabApp.extension_manager=readonly', '--LabApp.expose_app_in_browser=True', '--allow-root'] # window.jupyterapp: its commands
    with _serve(cmd, tmp_path, env, f'http://127.0.0.1:{port}/lab', 'lab') as v: yield v | dict(nb=f'http://127.0.0.1:{port}/lab/tree/{DEMO.name}')

@pytest.fixture
def axe():
    "`axe(page, step)`: axe-core run on the app's panels and the notebook's text; fails on a critical or serious violation"
    if not AXE.exists():
        if os.environ.get('CI') == 'true': pytest.fail(f'axe-core is missing at {AXE}: tools/test.sh installs it with npm')
        warnings.warn(f'axe-core is not installed at {AXE} (npm install --prefix .axe axe-core): the accessibility checks are skipped')
        return lambda page, step: None
    def check(page, step):
        if not page.evaluate('typeof window.axe !== "undefined"'): page.add_script_tag(path=str(AXE))
        found = page.evaluate("""async () => {
            const sel = ['.ht-app', '.jp-RenderedMarkdown', '.jp-RenderedHTMLCommon'].filter(s => document.querySelector(s));
            const r = await axe.run({ include: sel.map(s => [s]) }, { resultTypes: ['violations'] });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary + '\\n' + n.html.slice(0, 300)) })); }""")
        bad = [v for v in found if v['impact'] in ('critical', 'serious')]
        assert not bad, f'axe-core at "{step}":\n' + json.dumps(bad, indent=1)
        return found
    return check

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

def test_three_steps_in_chromium(voila, axe):
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
            axe(page, 'voila: the page as it opens')
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
            axe(page, 'voila: step 1 done')
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
            axe(page, 'voila: step 2 done')
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
            expect(page.locator('.ht-card-img')).to_have_attribute('alt', re.compile(r'^Post 1 drawn as a card: "My dream is.*", written by an AI trained on the posts of @wrencrumb$'))
            expect(page.locator('.ht-card-img')).to_be_focused() # the keyboard (and a screen reader) lands on the card just drawn
            page.locator('.ht-card').screenshot(path=str(SHOTS/'demo-card-focused.png')) # its focus ring, to look at
            expect(page.get_by_role('button', name='Use as model card thumbnail')).to_be_enabled()
            expect(page.locator('.ht-step3 img')).to_be_visible()
            page.locator('.ht-step3').screenshot(path=str(SHOTS/'demo-step3-predictions.png'))
            axe(page, 'voila: step 3, a card drawn')
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
            axe(page, 'voila: a failed retrain')
            # A phone's 390 px: nothing past the right edge, the text of a post at least 200 px wide, the card in view after its click
            page.set_viewport_size({'width': 390, 'height': 844})
            page.wait_for_timeout(500)
            over = page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')
            assert over[0] <= over[1], over
            widths = page.locator('.ht-predictions .ht-pred').evaluate_all('els => els.map(e => e.getBoundingClientRect().width)')
            assert min(widths) >= 200, widths
            page.get_by_role('button', name='Card for post 3', exact=True).click()
            expect(page.get_by_text('Card 3 saved to')).to_be_visible(timeout=30_000)
            page.wait_for_timeout(500)
            assert in_view(page, page.locator('.ht-card img')), page.locator('.ht-card img').bounding_box()
            page.screenshot(path=str(SHOTS/'demo-390.png'))
            axe(page, 'voila: 390 px')
            page.set_viewport_size({'width': 390, 'height': 4000})
            page.screenshot(path=str(SHOTS/'demo-390-full.png'))
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

def focus_ring(page, locator)->dict:
    "The outline of `locator` once the keyboard has focused it"
    return locator.evaluate('e => { const s = getComputedStyle(e); return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }')

def lab_command(page, command):
    "Run JupyterLab's `command` (what its menus run: notebook:run-all-cells, notebook:restart-run-all) once the notebook's kernel is idle"
    page.wait_for_function('''() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                                      return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
                                                && w.sessionContext.session.kernel.status === 'idle'); }''', timeout=120_000)
    page.evaluate('c => { window.jupyterapp.commands.execute(c); }', command)

def test_three_steps_in_jupyterlab(lab, axe, tmp_path):
    "Run All in JupyterLab; two people's tweets.js; train; predict; a card by keyboard; reload; restart; a phone's 390 px"
    from playwright.sync_api import sync_playwright, expect
    from huggingtweets.demo import EXAMPLE
    SHOTS.mkdir(exist_ok=True)
    (tmp_path/'a').mkdir(); (tmp_path/'b').mkdir()
    shutil.copy(Path(EXAMPLE)/'data'/'tweets.js', tmp_path/'a'/'tweets.js') # two files of the same name, two people's
    with zipfile.ZipFile(make_archive(tmp_path/'jill.zip', sample_tweets(300, handle='jill'), handle='jill', name='Jill')) as z:
        (tmp_path/'b'/'tweets.js').write_bytes(z.read('data/tweets.js'))
    t0 = time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 2400})
            page.goto(lab['nb'], timeout=120_000)
            expect(page.locator('.jp-Notebook')).to_be_visible(timeout=120_000)
            page.evaluate('window.jupyterapp.shell.collapseLeft()') # the file browser closed, as on a phone, where it would take the screen
            lab_command(page, 'notebook:run-all-cells')
            box = page.get_by_label('Account 1')
            expect(box).to_be_visible(timeout=120_000)
            axe(page, 'lab: Run All')
            # Step 1: two uploads named tweets.js, each asks whose it is, each keeps its own place
            for folder, handle in (('a', 'wrencrumb'), ('b', 'jill')):
                page.locator('.ht-step1 input.ht-file').set_input_files(str(tmp_path/folder/'tweets.js'))
                expect(page.get_by_text('does not say whose they are')).to_be_visible(timeout=60_000)
                page.get_by_label('X handle').fill(handle)
                page.get_by_role('button', name='Use this handle').click()
                expect(page.get_by_text(f'of @{handle}').first).to_be_visible(timeout=30_000)
            expect(box).to_have_value(re.compile(r'^archive:.*uploads/tweets$'))
            expect(page.get_by_label('Account 2')).to_have_value(re.compile(r'^archive:.*uploads/tweets-2$'))
            axe(page, 'lab: two uploads')
            page.get_by_role('button', name='Download tweets').click()
            expect(page.get_by_text('Dataset ready')).to_be_visible(timeout=60_000)
            table = page.locator('.ht-step1 table.ht-table')
            expect(table).to_contain_text('@wrencrumb'); expect(table).to_contain_text('@jill')
            ok = page.locator('.ht-step1 .ht-msg.ht-ok, .ht-step1 .ht-msg.ht-warn').first # a message says its kind in words, not only a colour
            assert re.search(r'Success|Warning', ok.evaluate('e => getComputedStyle(e, "::before").content')), ok.inner_html()
            axe(page, 'lab: step 1 done')
            # Step 2
            page.get_by_role('button', name='Train Neural Network').click()
            expect(page.get_by_text('Validation loss:')).to_be_visible(timeout=120_000)
            axe(page, 'lab: step 2 done')
            # Step 3, by keyboard: Enter writes posts; Enter on "Card for post 1" draws it and moves the focus to it; Shift+Tab goes back
            prompt = page.get_by_label('Prompt')
            prompt.press('Enter')
            preds = page.locator('.ht-predictions .ht-pred')
            expect(preds).to_have_count(10, timeout=60_000)
            texts = preds.all_inner_texts()
            card_button = page.get_by_role('button', name='Card for post 1', exact=True)
            run = page.get_by_role('button', name='Run predictions')
            expect(run).to_be_enabled() # the round is over
            run.focus(); page.keyboard.press('Shift+Tab'); page.keyboard.press('Tab') # reached by the keyboard: :focus-visible
            expect(run).to_be_focused()
            ring = focus_ring(page, run) # a visible focus ring on the blue button: 2 px or more, not the faint default
            assert ring['style'] != 'none' and ring['width'] >= 2, ring
            card_button.focus(); page.keyboard.press('Enter')
            img = page.locator('.ht-card-img')
            expect(img).to_have_attribute('alt', re.compile(r'^Post 1 drawn as a card: "My dream is.*", written by an AI trained on the posts of @'), timeout=30_000)
            expect(img).to_be_focused(timeout=10_000)
            expect(card_button).to_be_enabled() # the card step is over
            page.keyboard.press('Shift+Tab')
            expect(card_button).to_be_focused()
            links = page.locator('.jp-RenderedMarkdown a:not(.jp-InternalAnchorLink)') # the notebook's text links (not its headings' ¶)
            deco = links.evaluate_all('es => es.map(e => [e.textContent, getComputedStyle(e).textDecorationLine])')
            assert len(deco) >= 3 and all('underline' in d for _, d in deco), deco
            page.screenshot(path=str(SHOTS/'lab-1280.png'), full_page=True)
            axe(page, 'lab: step 3, a card drawn')
            # A phone's 390 px
            page.set_viewport_size({'width': 390, 'height': 844})
            page.locator('.ht-step3').scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS/'lab-390.png'))
            axe(page, 'lab: 390 px')
            page.set_viewport_size({'width': 1280, 'height': 2400})
            # A reload: the page comes back to the same kernel; Run All shows the same app, its session whole
            page.reload()
            expect(page.locator('.jp-Notebook')).to_be_visible(timeout=120_000)
            lab_command(page, 'notebook:run-all-cells')
            expect(preds).to_have_count(10, timeout=60_000)
            assert preds.all_inner_texts() == texts
            expect(page.get_by_label('Account 2')).to_have_value(re.compile(r'^archive:.*uploads/tweets-2$'))
            page.screenshot(path=str(SHOTS/'lab-reload.png'), full_page=True)
            axe(page, 'lab: after a reload')
            # A kernel restart: the model on disk is found, and step 3 goes on
            lab_command(page, 'notebook:restart-run-all')
            page.locator('.jp-Dialog .jp-mod-accept').click() # "Confirm Kernel Restart"
            expect(preds).to_have_count(0, timeout=120_000) # the old app's outputs gone: a new kernel, a new app
            expect(page.locator('.ht-step3 .jupyter-widgets-disconnected')).to_have_count(0, timeout=120_000)
            models = page.get_by_label('Model', exact=True)
            expect(models).to_be_visible(timeout=120_000) # the new kernel's app lists the model on disk
            expect(models.locator('option')).to_contain_text([re.compile(r'^jill-wrencrumb\s\(@wrencrumb\s&\s@jill,\svalidation\sloss')], timeout=120_000) # \s: ipywidgets writes no-break spaces
            expect(run).to_be_disabled()
            axe(page, 'lab: a kernel restart, the model listed')
            page.get_by_role('button', name='Use this model').click()
            expect(page.get_by_text('jill-wrencrumb is ready')).to_be_visible(timeout=60_000)
            expect(run).to_be_enabled()
            run.click()
            expect(preds).to_have_count(10, timeout=60_000)
            page.screenshot(path=str(SHOTS/'lab-restart.png'), full_page=True)
            axe(page, 'lab: after a kernel restart')
            assert page.locator('.jp-OutputArea-output').filter(has_text='Traceback').count() == 0
        finally:
            browser.close()
    print(f'JupyterLab flow: {time.time() - t0:.1f} s; screenshots in {SHOTS}')
