"The model card: line for line the seed's where it should be, the Hub's metadata, and cards of real training runs."
import re
from pathlib import Path
import pytest
from huggingface_hub import ModelCard
from huggingtweets.card import render_card, write_card, hub_id, base_license, REPO
from huggingtweets.clean import Stats
from huggingtweets.core import UserError
from huggingtweets.dataset import AccountInfo, DatasetInfo, model_name
from huggingtweets.record import ModelRecord, RECORD
from huggingtweets.train import TrainResult
from util import shared

SEED_AVATAR = 'https://pbs.twimg.com/profile_images/1333057562418135050/ddMkA8SB_400x400.jpg'
SEED_WANDB = dict(preprocess='https://wandb.ai/wandb/huggingtweets/runs/7i9ntszz', train='https://wandb.ai/wandb/huggingtweets/runs/2wsrhmmr')
EVIL = '<img src=x onerror=alert(1)>'


def account(handle, name, avatar, downloaded, retweets, short, kept, spec=None, languages=()):
    "An account of the record, as `make_dataset` describes it: 13 of its kept tweets held out"
    st = Stats(handle, name, 'x', downloaded, retweets, short, kept, 10_000, languages=[list(l) for l in languages])
    return AccountInfo(handle, name, 'x', spec or handle, st, avatar, kept - 13, 13)


def record(*accounts, base='gpt2', valid_loss=3.21, perplexity=24.8, base_loss=None, config=None, **kw):
    "The record the pipeline would write (the licence from `base_license`, as the pipeline fills it)"
    info = DatasetInfo(model_name([a.handle for a in accounts]), list(accounts), 1, 4, 0.1)
    res = TrainResult(2.9, valid_loss, valid_loss, base_loss, perplexity, 100, 102_400, 10.0, 'cpu', 'trainer', config=config or dict(base_model=base))
    return ModelRecord(info, res, **(dict(license=base_license(base)) | kw))


def seed_record(**kw): return record(account('p69ns', 'Puneet 🌌', SEED_AVATAR, 223, 44, 51, 128), **kw)


def unmojibake(line):
    "The seed file was once misread as cp1252 (🤖 reads ðŸ¤–): read such a line back as UTF-8"
    try: return line.encode('cp1252').decode('utf-8')
    except UnicodeError: return line


def block(lines, first, last=None):
    "The line starting with `first`, through the next one starting with `last` if given"
    i = next(i for i, l in enumerate(lines) if l.startswith(first))
    return lines[i:next(j for j in range(i + 1, len(lines)) if lines[j].startswith(last)) + 1] if last else [lines[i]]


def front_keys(text):
    "The top-level keys of a card's front matter, in order"
    return [l.split(':')[0] for l in text.split('---')[1].strip().splitlines() if not l.startswith(('-', ' '))]


def test_seed_lines():
    seed = [unmojibake(l) for l in shared('seeds', 'model_card_p69ns.md').read_text(encoding='utf-8').splitlines()]
    ours = render_card(seed_record(wandb=SEED_WANDB), 'huggingtweets/p69ns').content.splitlines()
    assert block(ours, '<div class="inline-flex', '</div>') == block(seed, '<div class="inline-flex', '</div>')  # avatars, AI BOT, name, handle
    assert block(ours, '## Training data', '| Tweets kept') == block(seed, '## Training data', '| Tweets kept')  # heading, sentence, table
    for start in ('[Explore the data]', 'The model is based on', 'Hyperparameters and metrics', 'At the end of training',
                  "generator = pipeline('text-generation',", "                     model='huggingtweets/p69ns')", 'In addition, the data'):
        if start == 'The model is based on':  # the same sentence, with GPT-2's canonical Hub address
            assert block(ours, start) == [l.replace('huggingface.co/gpt2', 'huggingface.co/openai-community/gpt2') for l in block(seed, start)]
        else: assert block(ours, start) == block(seed, start), start
    assert [l for l in ours if l.startswith('## ')] == [l for l in seed if l.startswith('## ')]


def test_seed_shape_without_shared():
    text = render_card(seed_record(wandb=SEED_WANDB), 'huggingtweets/p69ns').content
    assert '🤖 AI BOT 🤖</div>' in text and '>Puneet 🌌</div>' in text and '>@p69ns</div>' in text
    assert text.count('display:inherit') == 1 and text.count('display:none') == 2
    assert "url(&#39;" + SEED_AVATAR + "&#39;)" in text
    assert 'The model was trained on tweets from Puneet 🌌.\n\n| Data | Puneet 🌌 |\n| --- | --- |\n| Tweets downloaded | 223 |' in text
    assert REPO == 'huggingtweets/huggingtweets'  # settings.ini's git_url
    assert f'https://github.com/{REPO}' in text and f'{REPO}/blob/main/huggingtweets-demo.ipynb' in text
    assert 'Original huggingtweets by [Boris Dayma](https://github.com/borisdayma/huggingtweets)' in text
    assert 'validation loss of 3.210 (perplexity 24.8)' in text and 'On 13 held-out tweets' in text


def test_three_accounts_are_a_cyborg():
    r = record(account('a', 'Ann', 'https://x.y/a.jpg', 20, 1, 1, 18), account('b', 'Bob', 'https://x.y/b.jpg', 30, 2, 2, 26),
               account('c', 'Cy', 'https://x.y/c.jpg', 40, 3, 3, 34))
    text = render_card(r, 'me/a-b-c').content
    lines = text.splitlines()
    assert '🤖 AI CYBORG 🤖' in text and 'AI BOT' not in text
    assert text.count('display:inherit') == 3 and 'display:none' not in text
    assert '    <div style="text-align: center; font-size: 16px; font-weight: 800">Ann, Bob & Cy</div>' in lines
    assert '    <div style="text-align: center; font-size: 14px;">@a-@b-@c</div>' in lines
    assert 'The model was trained on tweets from Ann, Bob & Cy.' in lines
    assert block(lines, '| Data', '| Tweets kept') == ['| Data | Ann | Bob | Cy |', '| --- | --- | --- | --- |', '| Tweets downloaded | 20 | 30 | 40 |',
                                                      '| Retweets | 1 | 2 | 3 |', '| Short tweets | 1 | 2 | 3 |', '| Tweets kept | 18 | 26 | 34 |']
    assert 'fine-tuned on tweets from @a, @b & @c.' in text and "the users' tweets" in text
    assert 'On 39 held-out tweets' in text  # 13 an account
    two = render_card(record(account('a', 'Ann', '', 14, 0, 0, 14), account('b', 'Bob', '', 14, 0, 0, 14)), 'me/a-b').content
    assert '>Ann & Bob</div>' in two and '>@a-@b</div>' in two and 'display:inherit' not in two


def test_no_wandb_no_links(tmp_path):
    text = render_card(seed_record(), 'huggingtweets/p69ns').content
    assert 'wandb.ai' not in text and 'Explore the data' not in text and 'W&B training run' not in text and 'offline' not in text
    offline = render_card(seed_record(wandb={'mode': 'offline', 'project': 'huggingtweets', 'runs': {'train': 'abc123'}}), 'huggingtweets/p69ns').content
    assert 'offline' in offline and 'wandb.ai' not in offline
    bad = render_card(seed_record(wandb={'train': 'javascript:alert(1)', 'preprocess': 'data:text/html,x'}), 'x/y').content
    assert 'wandb.ai' not in bad and 'javascript:' not in bad and 'data:text' not in bad  # only http(s) links
    seed_record(wandb=SEED_WANDB).save(tmp_path)  # the links recorded in huggingtweets.json are kept when the card is rendered again
    assert SEED_WANDB['train'] in render_card(ModelRecord.load(tmp_path), 'x/y').content


def test_front_matter_parses():
    text = str(render_card(seed_record(wandb=SEED_WANDB, languages=[['en', 0.97], ['es', 0.03]]), 'huggingtweets/p69ns', thumbnail='https://x.y/t.png'))
    data = ModelCard(text).data
    assert (data.base_model, data.pipeline_tag, data.tags, data.license, data.library_name) == \
           ('openai-community/gpt2', 'text-generation', ['huggingtweets'], 'mit', 'transformers')
    assert data.language == ['en'] and data.widget == [{'text': 'My dream is'}] and data.thumbnail == 'https://x.y/t.png'  # 3% Spanish is left out
    assert data.to_dict().get('datasets') is None
    assert front_keys(text) == ['language', 'thumbnail', 'tags', 'widget', 'base_model', 'pipeline_tag', 'license', 'library_name', 'model-index']  # the seed's keys first, in its order
    assert ModelCard(str(render_card(seed_record(license=None), 'a/b'))).data.license is None
    assert ModelCard(str(render_card(seed_record(), 'a/b'))).data.language is None  # no languages measured: none claimed
    base = 'EleutherAI/pythia-70m'
    assert base_license(base) == 'apache-2.0' and base_license('gpt2') == 'mit' and base_license('someone/unknown') is None
    other = ModelCard(str(render_card(record(account('p', 'P', '', 14, 0, 0, 14), base=base), 'a/b')))
    assert (other.data.base_model, other.data.license) == ('EleutherAI/pythia-70m', 'apache-2.0')
    assert '[the same limitations and bias as EleutherAI/pythia-70m](https://huggingface.co/EleutherAI/pythia-70m#limitations-and-bias)' in other.content


def test_datasets_in_front_matter():
    text = str(render_card(seed_record(dataset_repo='alice/p69ns'), 'alice/p69ns'))
    card = ModelCard(text)
    assert card.data.datasets == ['alice/p69ns']
    assert front_keys(text).index('datasets') == front_keys(text).index('base_model') + 1
    assert {r.dataset_type for r in card.data.eval_results} == {'alice/p69ns'}  # the held-out tweets are that dataset's validation split


def test_eval_results():
    card = ModelCard(str(render_card(seed_record(valid_loss=3.21049, perplexity=24.789), 'huggingtweets/p69ns')))
    res = card.data.eval_results
    assert [(r.metric_type, r.metric_value) for r in res] == [('loss', 3.2105), ('perplexity', 24.79)]
    assert {(r.task_type, r.dataset_split) for r in res} == {('text-generation', 'validation')}
    assert all('@p69ns' in r.dataset_name for r in res)
    assert card.data.model_name == 'p69ns'
    no_ppl = ModelCard(str(render_card(seed_record(perplexity=None), 'a/b')))
    assert [r.metric_type for r in no_ppl.data.eval_results] == ['loss'] and '(perplexity' not in no_ppl.content
    none = ModelCard(str(render_card(seed_record(valid_loss=None, perplexity=None), 'a/b')))  # nothing held out: nothing claimed
    assert none.data.eval_results is None and 'model-index' not in str(none).split('---')[1] and 'validation loss' not in none.content


def test_languages_sentence_and_warning():
    en = render_card(seed_record(languages=[['en', 0.8], ['es', 0.2]]), 'a/b')
    assert 'The tweets are in English (80%) and Spanish (20%).' in en.content
    assert en.data.language == ['en', 'es'] and 'multilingual base' not in en.content
    ja = render_card(seed_record(languages=[['ja', 0.9], ['en', 0.1]]), 'a/b')
    assert ja.data.language == ['ja', 'en']
    line = next(l for l in ja.content.splitlines() if l.startswith('The tweets are in'))
    assert line.startswith('The tweets are in Japanese (90%) and English (10%). Most posts are in Japanese (90%), which gpt2 was not trained on')
    assert 'multilingual base' in line
    qwen = render_card(record(account('p', 'P', '', 14, 0, 0, 14), base='Qwen/Qwen2.5-0.5B', languages=[['ja', 0.9], ['en', 0.1]]), 'a/b')
    assert 'Japanese (90%)' in qwen.content and 'was not trained on' not in qwen.content  # a base that knows Japanese: no warning
    assert 'The tweets are in' not in render_card(seed_record(), 'a/b').content


def test_memorization_sentence():
    memo = dict(share=0.25, verbatim=0.1, span=0.2, n=40, measure=dict(threshold=0.85))
    text = render_card(seed_record(memorization=memo), 'a/b').content
    assert ("Of 40 tweets the model wrote from nothing but the start token, 25% copy a training tweet verbatim or nearly "
            "(normalised text equal, or difflib's similarity ratio of at least 0.85).") in text
    assert 'copy a training tweet' not in render_card(seed_record(), 'a/b').content


def test_base_loss_sentence():
    text = render_card(seed_record(base_loss=4.56789), 'a/b').content
    assert ("On 13 held-out tweets, the final model reaches a validation loss of 3.210 (perplexity 24.8); "
            "before fine-tuning, the base model's loss on the same tweets was 4.568.") in text
    assert 'before fine-tuning' not in render_card(seed_record(), 'a/b').content


@pytest.mark.parametrize('base', ['/home/me/models/proxy-gpt2', './proxy-gpt2', 'C:\\models\\proxy-gpt2', 'TMP', 'RECORDED'])
def test_local_base_not_in_front_matter(base, tmp_path):
    config = None
    if base == 'TMP': (tmp_path/'proxy-gpt2').mkdir(); base = str(tmp_path/'proxy-gpt2')
    if base == 'RECORDED': base, config = 'proxy-gpt2', dict(base_model='proxy-gpt2', base_model_local=True)  # as `ModelRecord.public()` keeps a local base
    r = record(account('p', 'P', '', 14, 0, 0, 14), base=base, config=config, languages=[['ja', 1.0]])
    card = ModelCard(str(render_card(r, 'a/b')))
    assert card.data.base_model is None and 'base_model' not in card.content.split('---')[1]
    assert 'a pre-trained proxy-gpt2 which' in card.content and 'huggingface.co/proxy-gpt2' not in card.content
    assert '/home/me' not in str(card) and str(tmp_path) not in str(card)
    assert card.data.license is None  # a local folder without a card: licence unknown
    assert 'was not trained on' not in card.content  # what a local base knows is not guessed from its name
    assert hub_id('gpt2') == 'openai-community/gpt2' and (config or hub_id(base) is None)


def test_names_and_avatars_are_escaped(tmp_path):
    evil = account('x', EVIL + ' | A&B', "https://x.y/a.jpg');background:url('http://evil", 14, 0, 0, 14)
    local = account('y', 'Y', './data/profile_media/y.jpg', 14, 0, 0, 14)
    text = render_card(record(evil, local), 'me/x-y', folder=tmp_path).content
    assert '<img' not in text and '&lt;img src=x onerror=alert\\(1\\)&gt; \\| A&amp;B' in text  # the table's cell: no HTML, no Markdown
    assert 'evil' not in text and './data/profile_media' not in text and 'display:inherit' not in text
    (tmp_path/'avatar-y.jpg').write_bytes(b'\xff\xd8')  # a picture shipped with the model
    text = render_card(record(evil, local), 'me/x-y', folder=tmp_path).content
    assert "url(&#39;https://huggingface.co/me/x-y/resolve/main/avatar-y.jpg&#39;)" in text


def test_hostile_names_never_raw(tmp_path):
    "A handle, a display name, a spec's file name, an avatar's file name and a base model's folder named like HTML: escaped everywhere, front matter included"
    base = tmp_path/EVIL
    base.mkdir()
    a = account(EVIL, EVIL, str(tmp_path/f'{EVIL}.jpg'), 100, 1, 1, 98, spec=f'file:{tmp_path}/{EVIL}.csv', languages=[['en', 1.0]])
    b = account('bob', f'Bob {EVIL}', f'https://x.y/{EVIL}.jpg', 100, 1, 1, 98)
    r = record(a, b, base=str(base), base_loss=4.0, wandb={'train': f'https://wandb.ai/x/y/runs/{EVIL}'}, languages=[['en', 1.0]],
               memorization=dict(share=0.5, verbatim=0.5, span=0.5, n=2, measure=dict(threshold=0.9)))
    folder = tmp_path/'model'
    folder.mkdir()
    (folder/f'avatar-{a.slug}.jpg').write_bytes(b'\xff\xd8')
    p = write_card(folder, r, 'me/bob-img_src_x')
    text = p.read_text(encoding='utf-8')
    assert EVIL not in text and '<img' not in text and 'onerror=alert(1)>' not in text
    assert '&lt;img src=x onerror=alert(1)&gt;' in text  # shown, as text
    card = ModelCard.load(p)
    assert card.data.base_model is None and card.data.model_name == r.name and '<' not in card.data.model_name
    assert all('<' not in r.dataset_name and '<' not in r.dataset_type for r in card.data.eval_results)


def test_write_card(tmp_path, monkeypatch):
    monkeypatch.setenv('HF_TOKEN', 'hf_SECRET123')
    r = seed_record(wandb=SEED_WANDB)
    r.save(tmp_path)
    p = write_card(tmp_path, ModelRecord.load(tmp_path), 'alice/p69ns')
    text = p.read_text(encoding='utf-8')
    assert p == tmp_path/'README.md' and text.endswith(')\n') and not text.endswith('\n\n')
    assert "model='alice/p69ns'" in text and 'hf_SECRET123' not in text
    assert sorted(x.name for x in tmp_path.iterdir()) == ['README.md', RECORD]  # no temporary file left
    card = ModelCard.load(p)
    assert card.data.base_model == 'openai-community/gpt2' and card.data.license == 'mit'
    assert str(card) == str(render_card(r, 'alice/p69ns', folder=tmp_path))  # the record read back renders the same card
    with pytest.raises(UserError, match='no huggingtweets.json'): ModelRecord.load(tmp_path/'nothing')


@pytest.mark.filterwarnings('ignore:.*characters of kept posts')
def test_card_of_a_training_run(tmp_path):
    "The card of a real (tiny) fine-tuning, written from the record the run makes, as the pipeline writes it"
    pytest.importorskip('torch')
    from huggingtweets.train import make_tiny_model, finetune, TrainConfig, save_model
    from huggingtweets.dataset import make_dataset
    from huggingtweets.clean import curate
    from huggingtweets.core import Account, Post
    tiny = make_tiny_model(tmp_path/'tiny-gpt2')
    posts = [Post(f'My dream is number {i}: to write a bot that tweets about {w}.') for i, w in enumerate(['cats', 'dogs', 'GPUs', 'tea'] * 40)]
    acc = Account('jack', 'x', posts, 'Jack <3', avatar='./data/profile_media/jack.jpg')
    ds = make_dataset([curate(acc)], epochs=1, seed=0)
    tok, model, res = finetune(ds, TrainConfig(base_model=str(tiny), block_size=64, max_steps=2), progress=False)
    folder = save_model(tok, model, tmp_path/'jack')
    rec = ModelRecord(ds.info, res, license=base_license(str(tiny)), languages=[list(l) for l in ds.info.accounts[0].stats.languages])
    rec.save(folder)
    card = ModelCard.load(write_card(folder, ModelRecord.load(folder), 'alice/jack'))
    assert card.data.base_model is None and card.data.tags == ['huggingtweets'] and card.data.license is None
    assert "fine-tuned on @jack's tweets." in card.content and 'Jack &lt;3' in card.content
    assert f"| Tweets kept | {ds.info.accounts[0].stats.kept} |" in card.content
    assert "model='alice/jack'" in card.content and str(tmp_path) not in str(card) and 'validation loss of' in card.content
    assert "the base model's loss on the same tweets was" in card.content  # finetune measured the base before training
    assert [r.metric_type for r in card.data.eval_results] == ['loss', 'perplexity']
    assert re.search(r'validation loss of \d+\.\d{3}', card.content)


def test_thumbnail_drawn_by_the_app_once_pushed(tmp_path):
    (tmp_path/'thumbnail.png').write_bytes(b'png')
    pushed = render_card(seed_record(), 'me/p69ns', folder=tmp_path)
    assert pushed.data.thumbnail == 'https://huggingface.co/me/p69ns/resolve/main/thumbnail.png'
    local = render_card(seed_record(), str(tmp_path), folder=tmp_path)
    assert local.data.thumbnail == SEED_AVATAR  # a local folder has no URL yet: the avatar stands in


def test_posts_it_wrote_are_listed_escaped():
    "The samples on the card are its own posts, with their HTML and Markdown made inert; a card without samples has no such section"
    r = seed_record()
    r.samples = ['My dream is a <script>alert(1)</script> [bot](https://evil.example) ![x](https://evil.example/x.png)', 'Just baking bread today']
    text = render_card(r, 'a/b').content
    section = text.split('## Posts it wrote')[1].split('## Limitations')[0]
    assert '- Just baking bread today' in section and '<script>' not in section and '](https://evil' not in section, section
    assert '## Posts it wrote' not in render_card(seed_record(), 'a/b').content


URL_NAME = 'Bob http://evil.example/a www.evil-www.example bob@evil-mail.example xmpp:x@evil-x.example HTTPS://EVIL-UP.example'


def test_a_name_holding_urls_links_nowhere():
    "Rendered by GitHub's own cmark-gfm (autolinks on), the card has no link from a display name or a handle (a Mastodon one looks like an e-mail address): only its own links"
    cmarkgfm = pytest.importorskip('cmarkgfm')
    from cmarkgfm.cmark import Options
    r = record(account('bob', URL_NAME, SEED_AVATAR, 100, 1, 1, 98), account('eve@eve.example', 'www.eve.example', '', 100, 1, 1, 98), wandb=SEED_WANDB)
    r.samples = ['visit www.evil-sample.example or mail me@evil-sample.example']
    text = render_card(r, 'me/bob-eve').content.split('---\n', 2)[2]  # the page the Hub shows: the front matter is its metadata, not Markdown
    for opts in (Options.CMARK_OPT_DEFAULT, Options.CMARK_OPT_UNSAFE):
        page = cmarkgfm.github_flavored_markdown_to_html(text, options=opts)
        hrefs = re.findall(r'<a [^>]*href="([^"]*)"', page)
        assert hrefs and not [h for h in hrefs if 'evil' in h.lower() or 'eve.example' in h], hrefs
        assert 'Bob http://evil.example/a www.evil-www.example bob@' in re.sub(r'<!--.*?-->', '', page)  # the name is still there, as text
    assert 'http://evil.example/a' in cmarkgfm.github_flavored_markdown_to_html('Bob http://evil.example/a')  # and this renderer links bare URLs


@pytest.mark.parametrize('prompt', ['🤖 My dream is', 'Family 👨\u200d👩\u200d👧 and flag 🇫🇷', 'quotes \' and " and ``` fences', 'tab\tand \\ backslash'])
def test_snippet_prompt_is_a_python_literal(prompt, tmp_path):
    "The card's snippet writes the prompt as a Python literal that, copied and run, is the prompt: emoji as they are, no surrogates"
    import ast, subprocess, sys
    text = render_card(seed_record(), 'me/bob', prompt=prompt).content
    code = text.split('```python\n')[1].split('```')[0]
    call = next(l for l in code.splitlines() if l.startswith('generator('))
    literal = call[len('generator('):call.rindex(', num_return_sequences')]
    assert ast.literal_eval(literal) == prompt and '\\ud83' not in literal
    (tmp_path/'snippet.py').write_text(f'print({literal})\n', encoding='utf-8')
    r = subprocess.run([sys.executable, str(tmp_path/'snippet.py')], capture_output=True, env={'PYTHONIOENCODING': 'utf-8', 'PATH': ''})
    assert r.returncode == 0 and r.stdout.decode('utf-8') == prompt + '\n', r.stderr
