"""Read what a W&B offline run recorded, from its `run-<id>.wandb` file: job type, config, history, summary, artifacts and exit code.

This reader lived in `huggingtweets.track` once; only the tests need it (to check what the runs hold), so it lives here."""
from __future__ import annotations
import json, os, time
from pathlib import Path


def wandb_records(path:str|Path, # A `run-<id>.wandb` file
                 ):
    "The protobuf `Record`s of a `.wandb` file"
    from wandb.proto import wandb_internal_pb2 as pb
    data = Path(path).read_bytes()
    if data[:4] != b':W&B': raise ValueError(f"{str(path)!r} is not a W&B run file.")
    pos, buf, block = 7, b'', 32768
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7: pos += left; continue # a block's tail too short for a chunk is padding
        n, typ = int.from_bytes(data[pos+4:pos+6], 'little'), data[pos+6]
        buf += data[pos+7:pos+7+n]
        pos += 7 + n
        if typ in (1, 4): # full, or last of several
            r = pb.Record()
            r.ParseFromString(buf)
            buf = b''
            yield r


def _items(items):
    "A dict of W&B's key/value items, `nested_key` paths as nested dicts"
    out = {}
    for i in items:
        path = [i.key] if i.key else list(i.nested_key)
        d = out
        for p in path[:-1]: d = d.setdefault(p, {})
        d[path[-1]] = json.loads(i.value_json)
    return out


def run_file(folder:str|Path)->Path:
    "The `run-*.wandb` file of an offline run's folder"
    f = next(Path(folder).glob('run-*.wandb'), None)
    if f is None: raise FileNotFoundError(f"{str(folder)!r} holds no run-*.wandb file: is it a W&B offline run folder?")
    return f


def _run_records(folder, wait):
    f = run_file(folder)
    deadline = time.monotonic() + wait
    while True:
        try:
            recs = list(wandb_records(f))
            if any(r.WhichOneof('record_type') == 'exit' for r in recs): return recs
        except Exception:
            if time.monotonic() > deadline: raise
        if time.monotonic() > deadline: return recs
        time.sleep(0.1)


def run_records(folder:str|Path, wait:float=10)->list:
    "All the records of the offline run in `folder`, once its exit record is written (or `wait` seconds have passed)"
    return _run_records(folder, wait)


def read_offline_run(folder:str|Path, # An offline run's folder: `<dir>/wandb/offline-run-*`
                     wait:float=10, # Seconds to wait for W&B to finish writing the file (it may still be flushing after `finish` returns)
                    )->dict:
    "What an offline run recorded: job type, config, history rows, summary, artifacts and exit code (None if it never finished)"
    out = dict(job_type=None, config={}, history=[], summary={}, artifacts=[], exit_code=None)
    for r in _run_records(folder, wait):
        k = r.WhichOneof('record_type')
        if k == 'run':
            out['job_type'], out['project'] = r.run.job_type, r.run.project
            out['config'].update(_items(r.run.config.update))
        elif k == 'config': out['config'].update(_items(r.config.update))
        elif k == 'history': out['history'].append(_items(r.history.item))
        elif k == 'summary': out['summary'].update(_items(r.summary.update))
        elif k == 'artifact': out['artifacts'].append(dict(type=r.artifact.type, name=r.artifact.name, files=[e.path for e in r.artifact.manifest.contents]))
        elif k == 'exit': out['exit_code'] = r.exit.exit_code
    out['config'].pop('_wandb', None)
    return out


def offline_runs(t)->list[Path]:
    "The offline run folders under `t.dir` (a `track.Tracking`, or the folder itself), oldest first (to the second)"
    base = getattr(t, 'dir', t)
    d = Path(base if base is not None else os.environ.get('WANDB_DIR') or '.')/'wandb'
    def started(f):
        try: r = next((r for r in _run_records(f, 10) if r.WhichOneof('record_type') == 'run'), None) # W&B may still be writing it
        except Exception: r = None
        return (r.run.start_time.seconds, r.run.start_time.nanos) if r else (0, 0)
    runs = list(d.glob('offline-run-*'))
    stamps = [f.name.split('-')[2] for f in runs]
    # a run file is read only to order runs started in the same second
    return sorted(runs, key=lambda f: (s := f.name.split('-')[2], started(f) if stamps.count(s) > 1 else (0, 0)))
