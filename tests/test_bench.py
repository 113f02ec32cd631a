"The benchmark (bench/): its memorization rule and RESULTS.md writer, and its CPU smoke mode end to end (skipped without ../shared)."
import json, math, subprocess, sys
from pathlib import Path
import fastcore.test as fct
from util import ROOT, shared

sys.path.insert(0, str(ROOT/'bench'))
from memo import Memorization, normalize
import bench


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


RUN_FIELDS = ('step_seconds', 'loop_seconds', 'eval_seconds', 'tokens', 'steps', 'tokens_per_s', 'peak_gpu_mem_bytes',
              'train_loss', 'valid_loss', 'valid_loss_check', 'valid_loss_text', 'memorization', 'model_dir')


def test_smoke(tmp_path):
    "`bench.py --device cpu --smoke` runs both recipes on real data with tiny models and reports every figure"
    sh = shared('bench', 'upstream_recipe.py').parents[1]
    shared('data', 'pretrain', 'tweets_en.txt.gz'); shared('gpt2-tokenizer'); shared('data', 'accounts', 'trump_tweets.jsonl')
    p = subprocess.run([sys.executable, str(ROOT/'bench'/'bench.py'), '--device', 'cpu', '--smoke', '--shared', str(sh),
                        '--out', str(tmp_path/'out')], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    for s in ('whole train step (s)', 'loop tokens/s', 'held-out loss', 'memorized', 'throughput'): assert s in p.stdout, p.stdout
    R = json.loads((tmp_path/'out'/'results.json').read_text())
    fct.test_eq(set(R['runs']), {'recipe', 'huggingtweets'})
    for name, r in R['runs'].items():
        for f in RUN_FIELDS: assert f in r, (name, f)
        assert r['peak_gpu_mem_bytes'] is None # on a CPU
        assert r['steps'] > 0 and r['tokens'] == r['steps'] * 1024 and r['tokens_per_s'] > 0
        assert 0 < r['loop_seconds'] <= r['step_seconds'], (name, r['loop_seconds'], r['step_seconds'])
        assert r['eval_timed_apart'], name # the held-out evaluation is kept out of the step time
        for f in ('valid_loss', 'valid_loss_check', 'valid_loss_text', 'train_loss'): assert math.isfinite(r[f]), (name, f, r[f])
        assert abs(r['valid_loss'] - r['valid_loss_check']) < 2e-3, (name, r['valid_loss'], r['valid_loss_check']) # the same evaluation
        m = r['memorization']
        fct.test_eq(m['n'], R['settings']['samples'])
        for f in ('memorized_share', 'verbatim_share', 'span12_share'): assert 0 <= m[f] <= 1, (name, f, m[f])
        assert Path(r['model_dir']).is_dir()
    for f in ('step_speedup', 'loop_speedup', 'valid_loss_delta'): assert math.isfinite(R['ratios'][f]), f
    fct.test_eq(set(R['targets']), {'loop_speedup', 'step_speedup', 'valid_loss_delta'})
    assert R['pretrain']['steps'] > 0 and math.isfinite(R['base_valid_loss'])
    assert R['data']['valid_tweets'] > 0 and R['data']['train_tweets'] > R['data']['valid_tweets']
    g = R['runs']['huggingtweets']['gen_latency']
    assert g['cold_seconds'] > 0 and g['n'] == 10
    fct.test_eq([t['label'] for t in R['throughput']], ['gpt2-tiny'])
    t = R['throughput'][0]
    assert 'error' not in t, t
    assert t['tokens_per_s'] > 0 and t['params'] > 0 and t['gen_latency']['warm_seconds'] > 0
    assert R['command'].startswith('python bench/bench.py') and R['device'].startswith('cpu') and R['mode'] == 'smoke'
