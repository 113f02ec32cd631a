"The session the app keeps: models found on disk after a restart, one app per kernel, trainings of another session, the training's phases, and step 3's knobs; driven by setting widgets and clicking, as a person does."
import json, re
from pathlib import Path
from types import SimpleNamespace as NS
import pytest
import fastcore.test as fct
from util import ROOT
from test_app import make_app, spy, rows, tiny, archive # noqa: F401 (tiny and archive are fixtures)
import huggingtweets.app as app_mod
import huggingtweets.memorize as memorize_mod
from huggingtweets.app import App, AppConfig
from huggingtweets.core import UserError, one_run
from huggingtweets.session import KERNEL_KEY, saved_models, training_elsewhere

@pytest.fixture(scope='module')
def trained(tmp_path_factory, tiny, archive):
    "A folder where an app trained @jack (models/jack), then went away: what a kernel restart leaves"
    tmp = tmp_path_factory.mktemp('restart')
    app = make_app(tmp, tiny, max_steps=2, n=3, spec=f'archive:{archive}')
    app.download_button.click()
    assert app.train() and (tmp/'models'/'jack'/'huggingtweets.json').is_file(), app.msg2.value
    return tmp

def test_restart_finds_the_model(trained, tiny):
    "A new app (a restarted kernel) lists models/jack in step 3; picking it makes step 3 work, and step 2 can train it on newer posts"
    app = make_app(trained, tiny, n=3)
    fct.test_eq((app.predict_button.disabled, app.models_row.layout.display), (True, None))
    assert 'pick a model trained before' in app.msg3.value, app.msg3.value
    fct.test_eq([v for _, v in app.models.options], [str(trained/'models'/'jack')])
    assert app.models.options[0][0].startswith('jack (@jack, validation loss ') # what the list says
    app.open_button.click()
    assert 'jack is ready' in app.msg3.value and 'ht-ok' in app.msg3.value, app.msg3.value
    fct.test_eq((app.predict_button.disabled, app.update_button.disabled, app.train_button.disabled), (False, False, True))
    assert 'Validation loss' in app.out2.value
    app.predict_button.click()
    assert 'ht-error' not in app.msg3.value, app.msg3.value
    fct.test_eq(len(rows(app)), 3)
    assert '%40jack' in rows(app)[0].children[1].value # share text names the accounts of the record
    app.card_buttons[0].click()
    assert (trained/'models'/'jack'/'predictions'/'1.png').is_file()
    app.update_button.click() # the archive has no newer post
    assert 'No new post since jack was trained' in app.msg2.value, app.msg2.value
    fct.test_eq(len(rows(app)), 3) # step 3 as it was

def test_models_on_disk_hostile(trained, tiny, tmp_path):
    "Only real model folders are offered: a damaged record, a folder of the user's, a symlink and a stray file are left out"
    import shutil
    models = tmp_path/'models'
    shutil.copytree(trained/'models'/'jack', models/'jack')
    shutil.copytree(trained/'models'/'jack', models/'broken')
    (models/'broken'/'huggingtweets.json').write_text('{"dataset": 1}')
    (models/'mine').mkdir(); (models/'mine'/'notes.txt').write_text('hi')
    (models/'link').symlink_to(models/'jack')
    (models/'file.txt').write_text('x')
    fct.test_eq([m.folder.name for m in saved_models(models)], ['jack'])
    fct.test_eq(saved_models(tmp_path/'nosuch'), [])
    app = App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(models), wandb='disabled'))
    app.models.value = None
    app.open_button.click()
    assert app.msg3.value.startswith('<div class="ht-msg ht-error">Pick a model in the list first'), app.msg3.value

def test_one_app_per_kernel(tmp_path, tiny):
    "Running step 1's cell again (or Run all) in the same kernel gives the same app, its state kept; a real IPython shell keeps it in its namespace"
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    cell = f"from huggingtweets.app import App, AppConfig\napp = App.for_kernel(AppConfig(data_dir={str(tmp_path/'data')!r}, models_dir={str(tmp_path/'models')!r}, wandb='disabled'))"
    shell.run_cell(cell).raise_error()
    first = shell.user_ns['app']
    first.boxes[0].value = 'bluesky:alice.bsky.social'
    first.state.prompt = 'kept'
    shell.run_cell(cell).raise_error() # the cell again
    assert shell.user_ns['app'] is first and shell.user_ns[KERNEL_KEY] is first
    fct.test_eq((first.boxes[0].value, first.state.prompt), ('bluesky:alice.bsky.social', 'kept'))
    fake = NS(user_ns={}) # another kernel: its own app
    other = App.for_kernel(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models')), fake)
    assert other is not first and App.for_kernel(None, fake) is other
    del shell.user_ns[KERNEL_KEY]

def test_training_elsewhere(trained, tiny, archive):
    "While another session (a page closed or reloaded in Voila) trains jack, a new app says so, and a second training of jack is refused in one sentence"
    models = trained/'models'
    with one_run(models/'jack'):
        fct.test_eq(training_elsewhere(models), ['jack'])
        app = make_app(trained, tiny, max_steps=2, n=3, spec=f'archive:{archive}')
        assert 'Being trained in another session now' in app.elsewhere.value and 'jack' in app.elsewhere.value, app.elsewhere.value
        app.download_button.click()
        assert not app.train()
        assert 'Another huggingtweets run is writing' in app.msg2.value and app.msg2.value.count('ht-error') == 1, app.msg2.value
    fct.test_eq(training_elsewhere(models), [])
    app.refresh_button.click()
    fct.test_eq(app.elsewhere.value, '')

def test_refresh_is_there_while_a_first_model_trains_elsewhere(tmp_path, tiny, archive):
    "A Voila page reloaded while the first model trains in the old kernel: the message says to click Refresh, so the button is shown (seen by hand: it was hidden with the empty list)"
    (tmp_path/'models').mkdir()
    with one_run(tmp_path/'models'/'jill'):
        app = make_app(tmp_path, tiny, max_steps=2, n=3, spec=f'archive:{archive}')
        assert 'click &quot;Refresh&quot;' in app.elsewhere.value, app.elsewhere.value
        assert app.models_row.layout.display != 'none' and not app.refresh_button.disabled
        fct.test_eq(len(app.models.options), 0)
    app.refresh_button.click()
    fct.test_eq(app.elsewhere.value, '')
    fct.test_eq(app.models_row.layout.display, 'none')

def test_voila_culls_kernels_left_without_a_page():
    "voila.json, read by Voila from the folder it serves: a kernel whose page is gone is shut down once idle (after the training it was doing), never while it trains"
    cfg = json.loads((ROOT/'voila.json').read_text())['MappingKernelManager']
    assert 0 < cfg['cull_idle_timeout'] <= 3600 and cfg['cull_interval'] > 0 and cfg.get('cull_connected', False) is False and cfg.get('cull_busy', False) is False

def test_training_phases(tmp_path, tiny, archive, monkeypatch):
    "Something on screen before the first library call; the phases named in order; a retrain clears the figures of the run before"
    app = make_app(tmp_path, tiny, max_steps=2, n=3, spec=f'archive:{archive}')
    app.download_button.click()
    labels, phases = [], []
    app.progress_label.observe(lambda ch: labels.append(ch['new']), 'value')
    app.phases.observe(lambda ch: phases.append(re.search(r'ht-now"[^>]*>([^<…]+)', ch['new'])[1] if 'ht-now' in ch['new'] else ch['new'][:20]), 'value')
    seen = []
    real = app_mod.check_base
    monkeypatch.setattr(app_mod, 'check_base', lambda *a: (seen.append((list(labels), list(phases))), real(*a))[1])
    app.train_button.click()
    fct.test_eq(seen[0], (['Getting ready: checking the settings and the base model...'], ['getting ready'])) # before anything slow
    fct.test_eq([p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]][:6], ['getting ready', 'tokenizing', 'training', 'evaluating', 'sample posts', 'saving'])
    assert '✓ saving' in app.phases.value and 'ht-now' not in app.phases.value # all done
    before = (app.out2.value, app.curve.value)
    assert 'Validation loss' in before[0]
    shown = []
    monkeypatch.setattr(app_mod, 'train_and_publish', lambda *a, real=app_mod.train_and_publish, **kw: (shown.append((app.out2.value, app.curve.value, app.msg2.value)), real(*a, **kw))[1])
    app.train_button.click()
    fct.test_eq(shown[0][:2], ('', '')) # the loss of the run before is gone while the new one trains
    assert 'Training on @jack' in shown[0][2]
    assert 'Validation loss' in app.out2.value

def test_step3_knobs(trained, tiny, monkeypatch):
    "Posts, Temperature, Top-p and Length reach the sampling; the length is made room for within the model's context; a prompt too long is one sentence"
    app = make_app(trained, tiny)
    app.open_button.click()
    calls = spy(monkeypatch, app, memorize_mod, 'generate_new')
    app.n_posts.value, app.temperature.value, app.top_p.value, app.length.value = 4, 0.7, 0.5, 20
    app.prompt.value = 'My dream is'
    app.predict_button.click()
    assert 'ht-error' not in app.msg3.value, app.msg3.value
    used = 1 + len(app.state.run.model[0]('My dream is', add_special_tokens=False).input_ids)
    kw = calls[-1]['kw']
    fct.test_eq((kw['temperature'], kw['top_p'], kw['max_length'], len(rows(app))), (0.7, 0.5, used + 20, 4))
    app.length.value = 400 # more than the tiny model's 256 positions: made to fit
    app.predict_button.click()
    fct.test_eq(calls[-1]['kw']['max_length'], 256)
    app.prompt.value = 'x' * 101
    app.predict_button.click()
    assert app.msg3.value.startswith('<div class="ht-msg ht-error">The prompt is 101 characters: keep it to 100 at most') and app.msg3.value.count('. ') == 0, app.msg3.value
    fct.test_eq(len(rows(app)), 4) # the round before stays
    small = NS(config=NS(n_positions=12))
    with pytest.raises(UserError, match='leaves no room to write'): app.sampling(app.state.run.model[0], 'My dream is a long prompt', small)

def test_host_words(tmp_path, monkeypatch):
    "The app says what fits where it runs: Colab's Secrets and Files panel in Colab only; JupyterLab's kernel and file browser; Voila's server"
    from huggingtweets.appview import gpu_message
    from huggingtweets.hub import NO_TOKEN
    monkeypatch.delenv('X_BEARER_TOKEN', raising=False)
    for k in ('VOILA_BASE_URL', 'VOILA_SERVER_URL', 'VOILA_REQUEST_URL', 'COLAB_RELEASE_TAG'): monkeypatch.delenv(k, raising=False)
    fct.test_eq(App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models'))).host, 'jupyter')
    monkeypatch.setenv('VOILA_BASE_URL', '/') # what Voila sets in the kernels it starts
    fct.test_eq(App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models'))).host, 'voila')
    said = {}
    for host in ('colab', 'jupyter', 'voila'):
        app = App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models'), host=host, max_upload_mb=1))
        app.boxes[0].value = 'karpathy' # an X handle, no token
        app.download_button.click()
        x = app.msg1.value
        app.receiver.on_msg(app.upload, {'kind': 'refused', 'name': 'big.zip', 'size': 5 * 2**20}, [])
        ok, gpu = gpu_message(host)
        said[host] = (x, app_mod.error_html(UserError(NO_TOKEN), host=host), gpu, app.drive.layout.display, app.msg1.value)
    x, token, gpu, drive, big = said['colab']
    assert 'Secrets' in x and 'Secrets' in token and '/content/big.zip' in big and (ok or 'Runtime > Change runtime type' in gpu) and drive is None
    for host in ('jupyter', 'voila'):
        x, token, gpu, drive, big = said[host]
        for colab_words in ('Secrets', 'set-up cell', '/content', 'Runtime >', 'key icon'):
            assert colab_words not in x + token + gpu + big, (host, colab_words, x, token, gpu, big)
        fct.test_eq(drive, 'none')
    assert 'restart the kernel' in said['jupyter'][0] and 'restart the kernel' in said['jupyter'][1]
    assert 'before starting Voila' in said['voila'][0] and 'before starting Voila' in said['voila'][1]
    assert 'beside this notebook' in said['jupyter'][4] and 'beside' not in said['voila'][4] and said['voila'][4].count('. ') == 0

def test_drive(tmp_path, trained):
    "In Colab, 'Keep models on Google Drive' writes (and finds) models in MyDrive/huggingtweets/models, mounting Drive when it is not; a refusal unticks it, in one sentence"
    import shutil
    mount = tmp_path/'drive' # stands in for /content/drive
    app = App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models'), host='colab', drive_mount=str(mount), wandb='disabled'))
    fct.test_eq(app.drive.layout.display, None) # offered in Colab
    mounted = []
    def mount_drive(where): # what google.colab.drive.mount does once the user allows it
        mounted.append(where); (Path(where)/'MyDrive').mkdir(parents=True)
    app.mount_drive = mount_drive
    app.drive.value = True
    fct.test_eq((mounted, app.cfg.models_dir), ([str(mount)], str(mount/'MyDrive'/'huggingtweets'/'models')))
    assert 'on Google Drive, they stay when this Colab machine goes' in app.msg2.value, app.msg2.value
    shutil.copytree(trained/'models'/'jack', mount/'MyDrive'/'huggingtweets'/'models'/'jack') # a model trained into Drive in an earlier session
    app.refresh_button.click()
    fct.test_eq([v for _, v in app.models.options], [str(mount/'MyDrive'/'huggingtweets'/'models'/'jack')])
    app.drive.value = False
    fct.test_eq((app.cfg.models_dir, app.models.options), (str(tmp_path/'models'), ()))
    app.drive.value = True # mounted now: not asked again
    fct.test_eq(len(mounted), 1)
    app.drive.value = False
    other = App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models'), host='colab', drive_mount=str(tmp_path/'nodrive')))
    def refuse(where): raise RuntimeError('mount failed: user denied access')
    other.mount_drive = refuse
    other.drive.value = True
    assert other.msg2.value.startswith('<div class="ht-msg ht-error">Google Drive was not mounted (RuntimeError): allow the access Colab asks for'), other.msg2.value
    fct.test_eq((other.drive.value, other.cfg.models_dir), (False, str(tmp_path/'models')))

def test_narrow_screen_hooks(tmp_path):
    "At phone width the accounts' table scrolls inside its own box (with a hint when it has several columns of accounts), and the training's words wrap"
    from huggingtweets.appview import CSS, accounts_html
    from huggingtweets.core import Account, Post
    from huggingtweets.clean import curate
    one = curate(Account('jack', 'x', [Post('just setting up my twttr today, friends')], 'Jack'))
    two = [one, curate(Account('jill', 'x', [Post('hello there to the whole wide world')], 'Jill'))]
    three = two + [curate(Account('joe', 'x', [Post('good morning to every one of you')], 'Joe'))]
    h1, h2, h3 = accounts_html([one]), accounts_html(two), accounts_html(three)
    assert h1.startswith('<div class="ht-scroll" role="region" tabindex="0" aria-label="Posts of each account"><table class="ht-table">') and 'ht-scroll-hint' not in h1 + h2
    assert h3.startswith('<div class="ht-scroll-hint" aria-hidden="true">Scroll the table sideways') # four columns may not fit a phone
    media = CSS[CSS.index('@media (max-width: 600px)'):]
    assert '.ht-scroll-hint {display: block}' in media and 'padding: 4px 6px' in media
    assert re.search(r'\.ht-scroll \{[^}]*overflow-x: auto', CSS) and re.search(r'\.widget-label\.ht-wrap \{[^}]*white-space: normal', CSS)
    app = App(AppConfig(data_dir=str(tmp_path/'data'), models_dir=str(tmp_path/'models')))
    assert 'ht-wrap' in app.progress_label._dom_classes and 'ht-knobs' in app.knobs._dom_classes and 'ht-models' in app.models_row._dom_classes

def test_models_on_disk_with_records_nested_or_huge_are_left_out(tmp_path):
    "A models folder holding a record nested past Python's depth (`[[[[...`, 1 MB), or a local record so, or one over 16 MiB: left out of the list, not a traceback that stops the app"
    from huggingtweets.record import ModelRecord, LocalRecord
    models = tmp_path/'models'
    for name, record, local in [('deep', '[' * 10**6, None), ('deeplocal', '{"a": ' * 10**5, '{"a": ' * 10**5), ('huge', ' ' * (17 << 20) + '{}', None)]:
        (models/name).mkdir(parents=True); (models/name/'config.json').write_text('{}'); (models/name/'huggingtweets.json').write_text(record)
        if local: (models/name/'.huggingtweets-local.json').write_text(local)
    fct.test_eq(saved_models(models), [])
    for name in ('deep', 'huge'): fct.test_fail(lambda: ModelRecord.load(models/name), contains='is damaged')
    fct.test_fail(lambda: LocalRecord.load(models/'deeplocal'), contains='is damaged')

@pytest.mark.parametrize('name,value,says', [('HUGGINGTWEETS_TEMPERATURE', 'nan', 'a finite number'), ('HUGGINGTWEETS_TOP_P', 'inf', 'a finite number'),
                                             ('HUGGINGTWEETS_EPOCHS', '-inf', 'a finite number'), ('HUGGINGTWEETS_MAX_UPLOAD_MB', '-1', 'a positive number')])
def test_settings_from_the_environment_that_no_knob_can_hold_are_one_sentence(name, value, says):
    "A temperature of nan (the widget showed nan, and step 3 sampled with it), an upload limit under zero (every file refused): one sentence naming the variable"
    fct.test_fail(lambda: AppConfig.from_env({name: value}), contains=f'{name}={value!r} is not {says}.')

def test_the_upload_limit_from_the_environment_takes_a_fraction():
    "`max_upload_mb` is a float: 1.5 MiB is a limit, not 'not a whole number'"
    fct.test_eq(AppConfig.from_env({'HUGGINGTWEETS_MAX_UPLOAD_MB': '1.5'}).max_upload_mb, 1.5)
