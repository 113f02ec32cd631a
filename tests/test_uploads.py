"Uploads in the app: each in a place of its own, bounded by what it announced and by the limit, an owner asked for when the archive names none, an empty one refused; fed the messages the upload button's script sends."
import zipfile
from pathlib import Path
import pytest
import fastcore.test as fct
from util import make_archive, sample_tweets
from test_app import make_app, send_file, tiny, archive # noqa: F401 (tiny and archive are fixtures)
from huggingtweets.upload import upload_place, x_handle
from huggingtweets.core import UserError

def js_of(zip_path:Path)->bytes:
    with zipfile.ZipFile(zip_path) as z: return z.read('data/tweets.js')

def test_two_tweets_js_never_collide(tmp_path, tiny, archive):
    "Two uploads named tweets.js (two people's) land in two places, both kept, each box naming its own; the dataset holds both accounts"
    jill = make_archive(tmp_path/'jill.zip', sample_tweets(300, handle='jill'), handle='jill', name='Jill')
    app = make_app(tmp_path, tiny)
    for data, handle in ((js_of(archive), 'jack'), (js_of(jill), 'jill')):
        send_file(app, 'tweets.js', data)
        assert 'does not say whose they are' in app.msg1.value and 'ht-warn' in app.msg1.value, app.msg1.value
        app.handle_box.value = handle
        app.handle_button.click()
        assert f'of @{handle}' in app.msg1.value and 'ht-ok' in app.msg1.value, app.msg1.value
    specs = [b.value for b in app.boxes[:2]]
    fct.test_eq(specs, [f"archive:{tmp_path/'data'/'uploads'/'tweets'}", f"archive:{tmp_path/'data'/'uploads'/'tweets-2'}"])
    assert specs[0] in app.msg1.value or specs[1] in app.msg1.value # the message shows the spec the box got
    fct.test_eq((tmp_path/'data/uploads/tweets/data/tweets.js').read_bytes(), js_of(archive)) # nothing overwritten
    fct.test_eq((tmp_path/'data/uploads/tweets-2/data/tweets.js').read_bytes(), js_of(jill))
    app.download_button.click()
    fct.test_eq(sorted(a.handle for a in app.state.dataset.info.accounts), ['jack', 'jill'])
    # the same zip twice: two files, neither replaced
    app.boxes[0].value = app.boxes[1].value = ''
    send_file(app, 'jack.zip', archive.read_bytes()); send_file(app, 'jack.zip', archive.read_bytes())
    fct.test_eq([b.value for b in app.boxes[:2]], [f"archive:{tmp_path/'data/uploads/jack.zip'}", f"archive:{tmp_path/'data/uploads/jack-2.zip'}"])

def test_upload_place_reserves(tmp_path):
    "Each call reserves a new place at once (a file created, a folder made), so two writers never get the same one; odd names are tamed"
    got = [upload_place(tmp_path, 'tweets.js') for _ in range(3)] + [upload_place(tmp_path, n) for n in ('a.zip', 'a.zip', '../../etc/x.zip', '\u202e\x1b[31m.zip')] + [upload_place(tmp_path, '\u200b.zip')]
    fct.test_eq([p.relative_to(tmp_path).as_posix() for p in got],
                ['tweets/data/tweets.js', 'tweets-2/data/tweets.js', 'tweets-3/data/tweets.js', 'a.zip', 'a-2.zip', 'x.zip', '31m.zip', 'archive.zip'])
    assert all(p.parent.parent.is_dir() for p in got[:3]) and all(p.is_file() for p in got[3:])
    long = upload_place(tmp_path, 'n' * 600 + '.zip')
    assert len(long.name) <= 64

def test_upload_bounded_by_announced_and_limit(tmp_path, tiny, archive):
    "An upload that sends more than it announced, or announces more than the limit, is refused in one sentence; no part file is left"
    app = make_app(tmp_path, tiny, max_upload_mb=1)
    up = tmp_path/'data'/'uploads'
    acks = send_file(app, 'big.zip', b'x' * 10, chunk=10) # announced 10 bytes...
    fct.test_eq(acks[-1], {'kind': 'ack', 'go': True})
    sent = []
    app.upload.send = lambda content, buffers=None: sent.append(content)
    app.receiver.on_msg(app.upload, {'kind': 'start', 'name': 'big.zip', 'size': 10}, [])
    app.receiver.on_msg(app.upload, {'kind': 'chunk', 'offset': 0}, [memoryview(b'y' * 2**20)]) # ...then sends 1 MiB
    fct.test_eq(sent[-1], {'kind': 'ack', 'go': False})
    assert app.msg1.value.startswith('<div class="ht-msg ht-error">big.zip sent more than the 0.0 MB it announced: upload it again.'), app.msg1.value
    fct.test_eq([p.name for p in up.glob('.upload-*')], [])
    # announced over the limit (the browser's check skipped): refused before anything is written
    sent.clear()
    app.receiver.on_msg(app.upload, {'kind': 'start', 'name': 'huge.zip', 'size': 8 * 2**20}, [])
    app.receiver.on_msg(app.upload, {'kind': 'chunk', 'offset': 0}, [memoryview(b'z' * 2**20)])
    fct.test_eq(sent, [{'kind': 'ack', 'go': False}])
    assert 'huge.zip is 8.4 MB, more than the 1.0 MB this page takes' in app.msg1.value, app.msg1.value
    fct.test_eq(sorted(p.name for p in up.iterdir()), []) # the 10 bytes were no zip: nothing kept
    # sizes that are not sizes
    for size in (-1, 'ten', float('nan'), True, 10**30):
        sent.clear()
        app.receiver.on_msg(app.upload, {'kind': 'start', 'name': 'odd.zip', 'size': size}, [])
        fct.test_eq(sent, [{'kind': 'ack', 'go': False}])
        assert 'The upload announced a size of' in app.msg1.value and 'ht-error' in app.msg1.value, app.msg1.value
    fct.test_eq([p.name for p in up.glob('.upload-*')], [])

def test_owner_asked(tmp_path, tiny):
    "A zip without account.js is not named after the zip: the app asks for the handle, refuses one that is not a handle, and names the model after the one typed"
    z = make_archive(tmp_path/'twitter-2023-01-14-8f3c2a9d1e.zip', sample_tweets(300, handle='wren'))
    with zipfile.ZipFile(z) as src, zipfile.ZipFile(tmp_path/'anon.zip', 'w') as dst:
        for n in src.namelist():
            if not n.endswith('account.js'): dst.writestr(n, src.read(n))
    app = make_app(tmp_path, tiny)
    send_file(app, 'twitter-2023-01-14-8f3c2a9d1e.zip', (tmp_path/'anon.zip').read_bytes())
    assert 'does not say whose they are' in app.msg1.value and app.owner_row.layout.display is None, app.msg1.value
    fct.test_eq(app.boxes[0].value, '') # nothing filled until it is known
    for bad in ('', '   ', '\u200b', 'not a handle!', 'x' * 600, '@twitter-2023-01-14-8f3c2a9d1e'):
        app.handle_box.value = bad
        app.handle_button.click()
        assert app.msg1.value.startswith('<div class="ht-msg ht-error">Type the X handle') and app.msg1.value.count('. ') == 0, app.msg1.value
    app.handle_box.value = ' @wren_bakes '
    app.handle_button.click()
    assert '@wren_bakes' in app.msg1.value and app.owner_row.layout.display == 'none', app.msg1.value
    app.download_button.click()
    fct.test_eq(app.state.dataset.name, 'wren_bakes')
    assert 'twitter-2023' not in app.out1.value
    fct.test_eq(x_handle('@jack\u200b'), 'jack')
    with pytest.raises(UserError): x_handle('a' * 16)

def test_empty_archive_refused(tmp_path, tiny):
    "An archive with no post is refused in one sentence, in red, and not kept"
    empty = make_archive(tmp_path/'empty.zip', [])
    app = make_app(tmp_path, tiny)
    send_file(app, 'empty.zip', empty.read_bytes())
    assert app.msg1.value.startswith('<div class="ht-msg ht-error">empty.zip holds no posts: ') and app.msg1.value.count('. ') == 0, app.msg1.value
    assert 'Click "Download tweets"' not in app.msg1.value
    fct.test_eq((app.boxes[0].value, sorted(p.name for p in (tmp_path/'data'/'uploads').iterdir())), ('', []))
