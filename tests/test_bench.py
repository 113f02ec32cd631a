"The benchmark (bench/): its memorization rule, spread and mask_eot decision, RESULTS.md writer, and its CPU smoke mode end to end (skipped without ../shared)."
import json, math, subprocess, sys
import pytest
from pathlib import Path
import fastcore.test as fct
from util import ROOT, shared

sys.path.insert(0, str(ROOT/'bench'))
from memo import Memorization, normalize
import bench
from huggingtweets.dataset import held_out, load_dataset


def test_memorization_rule():
    train = ['Make America Great Again!', 'The media is so dishonest, they never report the truth about our great movement tonight in Ohio',
             'Thank you Iowa! See you soon.']
    m = Memorization(train)
    fct.test_eq(normalize('  Make  AMERICA great again! '), 'make america great again!')
    fct.test_eq(m.judge('make america great  again!')['verbatim'], True)
    near = m.judge('The media is so dishonest, they never report the truth about our great movement tonight in Iowa')
    assert near['near'] and not near['verbatim'] and near['ratio'] >= 0.9
    quote = m.judge('Wow. The media is so dishonest, they never report the truth about our great movement. Sad! Crooked Hillary is a total disaster for everyone')
    assert quote['span12'] and not quote['near']
    new = m.judge('I will be interviewed on Fox News at 7 tonight. Enjoy!')
    assert not (new['near'] or new['verbatim'] or new['span12'])
    s = m.share(['Thank you Iowa! See you soon.', 'Something else entirely, about golf courses in Scotland', ''])
    fct.test_close(s['memorized_share'], 1/3)
    fct.test_eq(s['n'], 3)


def test_results_md_sections(tmp_path):
    R = dict(mode='smoke', device_kind='cpu', device='cpu (x86_64, 2 cores)', date='2026-11-22 20:00 UTC', git='abc1234',
             versions=dict(torch='2.13.0', transformers='5.23.0'), runtime_seconds=50.0, command='python bench/bench.py --device cpu --smoke')
    p = tmp_path/'RESULTS.md'
    p.write_text('# Benchmark results\n\nIntro.\n\n<!-- bench:full-cuda -->\nto be measured\n<!-- /bench:full-cuda -->\n')
    bench.write_results_md(R, 'TABLE ONE', p)
    bench.write_results_md(R, 'TABLE TWO', p)
    t = p.read_text()
    assert 'TABLE TWO' in t and 'TABLE ONE' not in t and t.count('<!-- bench:smoke-cpu -->') == 1
    assert 'to be measured' in t and t.startswith('# Benchmark results\n\nIntro.')
    bench.write_results_md(dict(R, mode='full', device_kind='cuda', device='NVIDIA H100'), 'GPU TABLE', p)
    t = p.read_text()
    assert 'GPU TABLE' in t and 'to be measured' not in t and 'TABLE TWO' in t


def _stats(mean, std, n=3): return dict(mean=mean, std=std, min=mean - std, max=mean + std, n=n)

def _summary(text_def, text_mask, ends_def, ends_mask, std=0.002):
    "A summary of the two huggingtweets sides with only the figures `mask_verdict` reads"
    side = lambda t, e: dict(valid_loss_text=_stats(t, std), ends_share=_stats(e, 0.05))
    return dict(huggingtweets=side(text_def, ends_def), huggingtweets_masked=side(text_mask, ends_mask))


def test_stats_and_spread():
    s = bench.stats([1.0, 2.0, None, 3.0])
    fct.test_eq((s['mean'], s['min'], s['max'], s['n']), (2.0, 1.0, 3.0, 3))
    fct.test_close(s['std'], 1.0)
    fct.test_eq(bench.stats([None]), None)
    fct.test_eq(bench.stats([4.0])['std'], 0.0)
    fct.test_eq(bench.ms(_stats(10.5, 0.25), '{:.2f}'), '10.50 ± 0.25')
    fct.test_eq(bench.ms(_stats(4096, 0), '{:,.0f}'), '4,096') # a figure that did not vary shows its value alone
    S = dict(recipe=dict(valid_loss_text=_stats(3.000, 0.004)), huggingtweets=dict(valid_loss_text=_stats(3.003, 0.002)))
    d = bench.loss_delta(S, 'huggingtweets', 'recipe')
    fct.test_close(d['delta'], 0.003); fct.test_close(d['spread'], 0.004)
    assert d['within_spread']
    S['huggingtweets']['valid_loss_text'] = _stats(3.012, 0.002)
    assert not bench.loss_delta(S, 'huggingtweets', 'recipe')['within_spread']


def test_mask_verdict():
    "The product keeps learning <|endoftext|> unless masking is better by the figures"
    v = bench.mask_verdict(_summary(3.001, 3.000, 0.95, 0.05)) # ends, text no worse
    assert v['choice'] is False and 'mask_eot=False' in v['sentence'] and '95%' in v['sentence'] and '5%' in v['sentence']
    v = bench.mask_verdict(_summary(3.050, 3.000, 0.50, 0.48)) # worse text, ends no more often
    assert v['choice'] is True and 'mask_eot=True' in v['sentence']
    v = bench.mask_verdict(_summary(3.050, 3.000, 0.95, 0.05)) # a trade-off: the ending wins
    assert v['choice'] is False and 'trade-off' in v['sentence']
    v = bench.mask_verdict(_summary(3.000, 3.000, 0.10, 0.60)) # masked ends more often, text equal
    assert v['choice'] is True
    v = bench.mask_verdict(_summary(3.000, 3.000, 0.50, 0.52)) # equal on both
    assert v['choice'] is False and 'gains nothing' in v['sentence']
    v = bench.mask_verdict(_summary(3.020, 3.000, 0.50, 0.48, std=0.03)) # 0.02 worse, but inside a 0.03 seed spread
    assert v['choice'] is False and v['tolerance'] == 0.03


SIDES = ('recipe', 'huggingtweets', 'huggingtweets_masked', 'trainer_bf16')
RUN_FIELDS = ('seed', 'side', 'step_seconds', 'loop_seconds', 'eval_seconds', 'process_seconds', 'tokens', 'steps', 'tokens_per_s',
              'peak_gpu_mem_bytes', 'peak_gpu_mem_train_bytes', 'train_loss', 'valid_loss', 'valid_loss_check', 'valid_loss_text',
              'ends_share', 'generations', 'memorized_share', 'verbatim_share', 'span12_share', 'memorization', 'loop', 'loop_note',
              'mask_eot', 'model_dir')


def test_smoke(tmp_path):
    "`bench.py --device cpu --smoke` runs the four sides with two seeds on real data with tiny models and reports every figure"
    sh = shared('bench', 'upstream_recipe.py').parents[1]
    shared('data', 'pretrain', 'tweets_en.txt.gz'); shared('gpt2-tokenizer'); shared('data', 'accounts', 'trump_tweets.jsonl')
    p = subprocess.run([sys.executable, str(ROOT/'bench'/'bench.py'), '--device', 'cpu', '--smoke', '--shared', str(sh),
                        '--out', str(tmp_path/'out')], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    R = json.loads((tmp_path/'out'/'results.json').read_text())
    n_seeds, pt_steps, n = R['settings']['seeds'], R['settings']['pretrain_steps'], R['settings']['samples']
    fct.test_eq(R['seeds'], list(range(n_seeds)))
    assert n_seeds >= 2, n_seeds # a spread needs two
    for s in ('whole train step (s)', 'loop tokens/s', 'held-out loss, text tokens', 'all tokens (reference)', 'ends where a tweet ends',
              'memorized', 'huggingtweets, masked', 'seeds: ' + ', '.join(map(str, R['seeds'])), ' ± ', f'pretrained {pt_steps} steps', 'loop', f'trainer x{n_seeds}',
              R['mask_eot']['sentence'], 'throughput', 'Trainer, bf16', '(the same objective)', 'reserved, whole step (GB)'):
        assert s in p.stdout, (s, p.stdout)
    fct.test_eq(set(R['runs']), set(SIDES))
    for name in SIDES:
        runs = R['runs'][name]
        fct.test_eq([r['seed'] for r in runs], R['seeds'])
        for r in runs:
            for f in RUN_FIELDS: assert f in r, (name, f)
            assert r['peak_gpu_mem_bytes'] is None and r['peak_gpu_mem_train_bytes'] is None and r['peak_gpu_reserved_bytes'] is None # on a CPU
            assert r['steps'] > 0 and r['tokens'] == r['steps'] * 1024 and r['tokens_per_s'] > 0
            assert 0 < r['loop_seconds'] <= r['step_seconds'] < r['process_seconds'], (name, r['loop_seconds'], r['step_seconds'])
            assert r['eval_timed_apart'], name # the held-out evaluations are kept out of the step time
            for f in ('valid_loss', 'valid_loss_check', 'valid_loss_text', 'train_loss'): assert math.isfinite(r[f]), (name, f, r[f])
            assert abs(r['valid_loss'] - r['valid_loss_check']) < 2e-3, (name, r['valid_loss'], r['valid_loss_check']) # the same evaluation
            assert 0 < r['eot_target_share'] < 0.5, r['eot_target_share'] # the text-token loss leaves out the end-of-text targets
            fct.test_eq(r['mask_eot'], name not in ('huggingtweets', 'trainer_bf16')) # the recipe's collator masks them too
            fct.test_eq(r['loop'], 'trainer') # a CPU trains with Trainer, never the CUDA graph
            if name != 'recipe':
                assert abs(r['text_loss'] - r['valid_loss_text']) < 2e-3, (name, r['text_loss'], r['valid_loss_text'])
                fct.test_eq(r['eval_calls'], 2) # the base and the tuned model, both timed apart
            g = r['generations']
            fct.test_eq((g['n'], g['max_length']), (n, R['settings']['gen_max_length']))
            assert 0 <= g['ended'] <= n and r['ends_share'] == g['ended'] / n
            assert 0 < g['mean_new_tokens'] <= g['max_length'] - 1
            m = r['memorization']
            fct.test_eq(m['n'], n)
            for f in ('memorized_share', 'verbatim_share', 'span12_share'): assert 0 <= m[f] <= 1 and r[f] == m[f], (name, f, m[f])
            assert Path(r['model_dir']).is_dir()
        for f, x in R['summary'][name].items():
            if f.startswith('peak_gpu'): assert x is None; continue
            vals = [r[f] for r in runs]
            fct.test_eq(x['n'], n_seeds)
            fct.test_close(x['mean'], sum(vals) / len(vals), eps=1e-9)
            assert x['min'] == min(vals) and x['max'] == max(vals) and x['std'] >= 0, (name, f, x)
    S = R['summary']
    for side in ('huggingtweets', 'huggingtweets_masked'):
        d = R['ratios'][f'{side}_text_loss']
        fct.test_close(d['delta'], S[side]['valid_loss_text']['mean'] - S['recipe']['valid_loss_text']['mean'], eps=1e-9)
        fct.test_close(d['spread'], max(S[side]['valid_loss_text']['std'], S['recipe']['valid_loss_text']['std']), eps=1e-12)
        fct.test_eq(d['within_spread'], abs(d['delta']) <= d['spread'])
    for f in ('step_speedup', 'loop_speedup'): assert math.isfinite(R['ratios'][f]), f
    fct.test_close(R['ratios']['step_speedup'], S['recipe']['step_seconds']['mean'] / S['huggingtweets']['step_seconds']['mean'], eps=1e-9)
    fct.test_eq(set(R['targets']), {'loop_speedup', 'step_speedup', 'text_loss_delta', 'default_text_loss_delta'})
    for k in ('loop_speedup', 'step_speedup'): fct.test_eq(R['targets'][k]['met'], None) # no graph on a CPU: the speed targets are n/a
    assert 'n/a (the graph did not run)' in p.stdout
    for k, (a, b) in dict(text_loss_delta=('huggingtweets_masked', 'recipe'), default_text_loss_delta=('huggingtweets', 'trainer_bf16')).items():
        t, d = R['targets'][k], R['ratios'][f'{a}_vs_{b}_text_loss'] # judged between sides of the same objective
        fct.test_close(d['delta'], S[a]['valid_loss_text']['mean'] - S[b]['valid_loss_text']['mean'], eps=1e-9)
        fct.test_eq((t['value'], t['within_spread'], t['met']), (d['delta'], d['within_spread'], d['delta'] <= 0.01))
    v = R['mask_eot']
    assert isinstance(v['choice'], bool) and v['sentence'].startswith('mask_eot: train with')
    fct.test_eq((v['ends_share'], v['ends_share_masked']), (S['huggingtweets']['ends_share']['mean'], S['huggingtweets_masked']['ends_share']['mean']))
    fct.test_eq(R['pretrain']['budget'], {'steps': pt_steps}) # a number of steps, not seconds
    fct.test_eq(R['pretrain']['steps'], pt_steps)
    assert math.isfinite(R['base_valid_loss']) and math.isfinite(R['base_text_loss'])
    d = R['data']
    assert d['valid_tweets'] > 0 and d['train_tweets'] > d['valid_tweets']
    valid = (tmp_path/'out'/'data'/'valid.tweets').read_text(encoding='utf-8').splitlines() # what the recipe evaluates
    fct.test_eq(len(valid), d['valid_tweets'])
    assert all(held_out(t, d['valid_frac']) for t in valid) # the hash split, the same held-out posts for every side and seed
    for s in R['seeds']: fct.test_eq(load_dataset(d['datasets'][str(s)]).valid_texts, valid)
    g = R['gen_latency']
    assert g['cold_seconds'] > 0 and g['n'] == 10
    fct.test_eq([t['label'] for t in R['throughput']], ['gpt2-tiny'])
    t = R['throughput'][0]
    assert 'error' not in t, t
    assert t['tokens_per_s'] > 0 and t['params'] > 0 and t['gen_latency']['warm_seconds'] > 0 and t['loop'] == 'trainer'
    assert 'peak_gpu_mem_train_bytes' in t and 'peak_gpu_mem_bytes' in t
    assert R['command'].startswith('python bench/bench.py') and R['device'].startswith('cpu') and R['mode'] == 'smoke'


def test_gpu_check_dry_run(tmp_path):
    "bench/gpu_check.py runs every check's code on the CPU, each in its own process: the GPU-only ones SKIP, the others PASS, and the figures are written"
    out = tmp_path/'gpu_check.json'
    p = subprocess.run([sys.executable, str(ROOT/'bench'/'gpu_check.py'), '--cpu-dry-run', '--out', str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    R = json.loads(out.read_text())
    status = {k: v['status'] for k, v in R['results'].items()}
    fct.test_eq(status, dict(loop='PASS', flash='PASS', syncs='SKIP', graph_vs_eager='PASS', speed='PASS', memory='SKIP', fallback='SKIP'))
    fig = R['results']
    assert fig['loop']['figures']['default']['loop'] == 'eager' and fig['graph_vs_eager']['figures']['max_loss_deviation'] < 1e-4
    assert fig['speed']['figures']['sides']['recipe']['loop'] == 'trainer' and fig['speed']['figures']['sides']['default']['loop'] == 'eager'
    assert p.stdout.splitlines()[-1] == f'gpu_check: PASS 4, WARN 0, FAIL 0, SKIP 3; figures in {out}'


def test_gpu_check_says_what_to_bring(capsys, monkeypatch):
    "On a machine that lacks a library the check needs, it says which, and how to bring the wheels, and stops"
    import gpu_check
    monkeypatch.setattr(gpu_check, 'NEEDED', gpu_check.NEEDED + ('no_such_module_here',))
    assert gpu_check.main(['--wheels']) == 2
    out = capsys.readouterr().out
    assert out.startswith('This Python lacks no_such_module_here. On a machine online, in this checkout with huggingtweets installed: '
                          'python bench/gpu_check.py --bundle .gpu/wheels --python-version ') and gpu_check.install_line('.gpu/wheels') in out


def test_the_install_line_quotes_the_folder(tmp_path):
    "A bundle folder whose name holds a space, a `;` or a `$(...)`: the printed line, run by a shell, installs from that folder and runs nothing else"
    import gpu_check
    d = tmp_path/'my wheels; touch pwned $(touch pwned2)'
    d.mkdir(); (d/'requirements.txt').write_text('')
    line = gpu_check.install_line(str(d)).replace('pip install', 'echo')
    p = subprocess.run(['bash', '-c', line], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0 and not (tmp_path/'pwned').exists() and not (tmp_path/'pwned2').exists(), p.stdout + p.stderr
    assert f'--find-links {d} -r {d}/requirements.txt' in p.stdout.splitlines()[0]


def _base_site(folder:Path, names:tuple)->Path:
    "A folder in which `names` and what they require are importable as installed here, and nothing else: what a bare CUDA image for transformers holds"
    import importlib.metadata as md
    import gpu_check
    folder.mkdir()
    for n in gpu_check.requirement_closure(names):
        d = md.distribution(n)
        for top in {Path(f).parts[0] for f in d.files or [] if not str(f).startswith('..')} - {'__pycache__'}:
            if not (folder/top).exists(): (folder/top).symlink_to(Path(d.locate_file(''))/top)
    return folder


def _offline(cmd:list)->list:
    "`cmd` in a network namespace of its own, with no network, where this machine lets root make one"
    import shutil
    return ['unshare', '-n'] + cmd if shutil.which('unshare') and subprocess.run(['unshare', '-n', 'true'], capture_output=True).returncode == 0 else cmd


def test_the_bundle_installs_offline_and_the_dry_run_passes_from_it(tmp_path):
    """`--bundle` (online) gathers what the check needs beyond torch and transformers (and pandas, which the lent GPU machines have) under 64 MiB; its install line,
    run with no network, no index and no pip configuration, in a fresh venv that sees only torch, transformers, pandas and what they require, installs it; the
    dry run passes from that venv. A venv with --system-site-packages would see everything installed here, so it would prove nothing: the base is a folder of
    links to exactly those distributions, on the venv's path through a .pth file, as the image's site-packages would be"""
    import os, gpu_check
    wheels = tmp_path/'wheels'
    p = subprocess.run([sys.executable, str(ROOT/'bench'/'gpu_check.py'), '--bundle', str(wheels), '--have', 'pandas'], capture_output=True, text=True, timeout=300)
    if p.returncode and 'pip could not download' in p.stdout + p.stderr: pytest.skip('PyPI is not reachable from here: ' + (p.stdout + p.stderr).strip()[-200:])
    assert p.returncode == 0, p.stdout + p.stderr
    line = gpu_check.install_line(str(wheels))
    assert p.stdout.splitlines()[-1] == line and line.startswith(f'pip install --no-index --find-links {wheels} ')
    names = sorted(f.name.split('-')[0].lower() for f in wheels.glob('*.whl'))
    size = sum(f.stat().st_size for f in wheels.iterdir())
    assert {'datasets', 'pyarrow', 'py3langid', 'accelerate', 'huggingtweets'} <= set(names) and not {'wandb', 'torch', 'transformers', 'pandas', 'numpy'} & set(names), names
    assert size < 64 << 20 and f'{size / 2**20:.1f} MiB' in p.stdout
    base = _base_site(tmp_path/'image', gpu_check.BASE + ('pandas',))
    venv = tmp_path/'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    py = venv/'bin'/'python'
    site = Path(subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'], capture_output=True, text=True, check=True).stdout.strip())
    (site/'image.pth').write_text(str(base) + '\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTHON', 'PIP_', 'VIRTUAL_ENV'))} | dict(PIP_CONFIG_FILE=os.devnull, HF_HUB_OFFLINE='1', WANDB_MODE='offline')
    before = subprocess.run([py, '-c', 'import importlib.util as u; print([m for m in ("torch", "transformers", "pandas", "datasets", "accelerate", "wandb") if u.find_spec(m)])'],
                            capture_output=True, text=True, env=env, check=True).stdout.strip()
    assert before == "['torch', 'transformers', 'pandas']", before  # the image: nothing of the bundle's, nor wandb
    pip = [sys.executable, '-m', 'pip', '--python', str(py)] # the venv has no pip: this one installs into it
    for part in line.split(' && '):
        cmd = pip + part.split()[1:]
        if '*' in part: cmd = cmd[:-1] + [str(f) for f in wheels.glob('huggingtweets-*.whl')]
        got = subprocess.run(_offline(cmd), capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert got.returncode == 0, got.stdout + got.stderr
    where = subprocess.run([py, '-c', 'import huggingtweets, datasets, py3langid, accelerate; print(huggingtweets.__file__)'], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.returncode == 0 and where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr  # the wheel built from the tree installs
    out = tmp_path/'gpu_check.json'
    dry = subprocess.run(_offline([str(py), str(ROOT/'bench'/'gpu_check.py'), '--cpu-dry-run', '--out', str(out)]), capture_output=True, text=True, env=env, cwd=tmp_path, timeout=420)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert dry.stdout.splitlines()[-1] == f'gpu_check: PASS 4, WARN 0, FAIL 0, SKIP 3; figures in {out}', dry.stdout


def test_bundle_refuses_what_it_cannot_make_whole(tmp_path):
    "`--bundle` into a folder that holds files, or a link, or with a --have that is not installed here: one sentence, before any download, and nothing written"
    import gpu_check
    (tmp_path/'full').mkdir(); (tmp_path/'full'/'mine.txt').write_text('keep')
    (tmp_path/'link').symlink_to(tmp_path/'empty', target_is_directory=True)
    for folder in ('full', 'link'):
        with pytest.raises(SystemExit, match=f'^{tmp_path/folder} is not an empty folder: give a new one.$'): gpu_check.main(['--bundle', str(tmp_path/folder)])
    with pytest.raises(SystemExit, match=r'^no-such-dist is not installed here: .* name in --have distributions installed here \(as pandas\).$'):
        gpu_check.main(['--bundle', str(tmp_path/'new'), '--have', 'pandas,no-such-dist'])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['full', 'link'] and (tmp_path/'full'/'mine.txt').read_text() == 'keep'
