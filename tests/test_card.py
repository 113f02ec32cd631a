"The model card: line for line the seed's where it should be, the Hub's metadata, and cards of real training runs."
import json
from dataclasses import asdict
from pathlib import Path
import pytest
from huggingface_hub import ModelCard
from huggingtweets.card import render_card, write_card, hub_id
from huggingtweets.clean import Stats
from huggingtweets.sources import UserError
from util import shared

SEED_AVATAR = 'https://pbs.twimg.com/profile_images/1333057562418135050/ddMkA8SB_400x400.jpg'
SEED_WANDB = dict(preprocess='https://wandb.ai/wandb/huggingtweets/runs/7i9ntszz', train='https://wandb.ai/wandb/huggingtweets/runs/2wsrhmmr')


def account(handle, name, avatar, downloaded, retweets, short, kept):
    st = Stats(handle, name, 'x', downloaded, retweets, short, kept, 10_000)
    return dict(handle=handle, slug=handle, user_name=name, avatar=avatar, source='x', spec=handle, stats=asdict(st),
                train=dict(tweets=kept - 13, chars=9_000), valid=dict(tweets=13, chars=1_000))


def meta(*accounts, base='gpt2', **train):
    return dict(dataset=dict(name='-'.join(a['handle'] for a in accounts), seed=1, epochs=4, accounts=list(accounts)),
                train=dict(valid_loss=3.21, perplexity=24.8, config=dict(base_model=base), **train))


SEED_META = meta(account('p69ns', 'Puneet 🌌', SEED_AVATAR, 223, 44, 51, 128))


def unmojibake(line):
    "The seed file was once misread as cp1252 (🤖 reads ðŸ¤–): read such a line back as UTF-8"
    try: return line.encode('cp1252').decode('utf-8')
    except UnicodeError: return line


def block(lines, first, last=None):
    "The line starting with `first`, through the next one starting with `last` if given"
    i = next(i for i, l in enumerate(lines) if l.startswith(first))
    return lines[i:next(j for j in range(i + 1, len(lines)) if lines[j].startswith(last)) + 1] if last else [lines[i]]


def test_seed_lines():
    seed = [unmojibake(l) for l in shared('seeds', 'model_card_p69ns.md').read_text(encoding='utf-8').splitlines()]
    ours = render_card(SEED_META, 'huggingtweets/p69ns', SEED_WANDB).content.splitlines()
    assert block(ours, '<div class="inline-flex', '</div>') == block(seed, '<div class="inline-flex', '</div>')  # avatars, AI BOT, name, handle
    assert block(ours, '## Training data', '| Tweets kept') == block(seed, '## Training data', '| Tweets kept')  # heading, sentence, table
    for start in ('[Explore the data]', 'The model is based on', 'Hyperparameters and metrics', 'At the end of training',
                  "generator = pipeline('text-generation',", "                     model='huggingtweets/p69ns')", 'In addition, the data'):
        if start == 'The model is based on':  # the same sentence, with GPT-2's canonical Hub address
            assert block(ours, start) == [l.replace('huggingface.co/gpt2', 'huggingface.co/openai-community/gpt2') for l in block(seed, start)]
        else: assert block(ours, start) == block(seed, start), start
    assert [l for l in ours if l.startswith('## ')] == [l for l in seed if l.startswith('## ')]


def test_seed_shape_without_shared():
    text = render_card(SEED_META, 'huggingtweets/p69ns', SEED_WANDB).content
    assert '🤖 AI BOT 🤖</div>' in text and '>Puneet 🌌</div>' in text and '>@p69ns</div>' in text
    assert text.count('display:inherit') == 1 and text.count('display:none') == 2
    assert "url(&#39;" + SEED_AVATAR + "&#39;)" in text
    assert 'The model was trained on tweets from Puneet 🌌.\n\n| Data | Puneet 🌌 |\n| --- | --- |\n| Tweets downloaded | 223 |' in text
    assert 'https://github.com/huggingtweets/huggingtweets' in text and 'huggingtweets/huggingtweets/blob/main/huggingtweets-demo.ipynb' in text
    assert 'Original huggingtweets by [Boris Dayma](https://github.com/borisdayma/huggingtweets)' in text
    assert 'validation loss of 3.210 (perplexity 24.8)' in text and 'On 13 held-out tweets' in text


def test_three_accounts_are_a_cyborg():
    m = meta(account('a', 'Ann', 'https://x.y/a.jpg', 10, 1, 1, 8), account('b', 'Bob', 'https://x.y/b.jpg', 20, 2, 2, 16),
             account('c', 'Cy', 'https://x.y/c.jpg', 30, 3, 3, 24))
    text = render_card(m, 'me/a-b-c').content
    lines = text.splitlines()
    assert '🤖 AI CYBORG 🤖' in text and 'AI BOT' not in text
    assert text.count('display:inherit') == 3 and 'display:none' not in text
    assert '    <div style="text-align: center; font-size: 16px; font-weight: 800">Ann, Bob & Cy</div>' in lines
    assert '    <div style="text-align: center; font-size: 14px;">@a-@b-@c</div>' in lines
    assert 'The model was trained on tweets from Ann, Bob & Cy.' in lines
    assert block(lines, '| Data', '| Tweets kept') == ['| Data | Ann | Bob | Cy |', '| --- | --- | --- | --- |', '| Tweets downloaded | 10 | 20 | 30 |',
                                                      '| Retweets | 1 | 2 | 3 |', '| Short tweets | 1 | 2 | 3 |', '| Tweets kept | 8 | 16 | 24 |']
    assert 'fine-tuned on tweets from @a, @b & @c.' in text and "the users' tweets" in text
    two = render_card(meta(account('a', 'Ann', '', 1, 0, 0, 1), account('b', 'Bob', '', 1, 0, 0, 1)), 'me/a-b').content
    assert '>Ann & Bob</div>' in two and '>@a-@b</div>' in two and 'display:inherit' not in two


def test_no_wandb_no_links():
    text = render_card(SEED_META, 'huggingtweets/p69ns').content
    assert 'wandb.ai' not in text and 'Explore the data' not in text and 'W&B training run' not in text
    assert 'offline' in render_card(SEED_META, 'huggingtweets/p69ns', {'mode': 'offline'}).content
    assert 'wandb.ai' not in render_card(SEED_META, 'x/y', {'train': 'javascript:alert(1)'}).content  # only http(s) links
    with_meta = dict(SEED_META, wandb=SEED_WANDB)  # the links recorded in huggingtweets.json are kept when the card is rendered again
    assert SEED_WANDB['train'] in render_card(with_meta, 'x/y').content


def test_front_matter_parses():
    text = str(render_card(SEED_META, 'huggingtweets/p69ns', SEED_WANDB, thumbnail='https://x.y/t.png'))
    data = ModelCard(text).data
    assert (data.base_model, data.pipeline_tag, data.tags, data.license, data.library_name) == \
           ('openai-community/gpt2', 'text-generation', ['huggingtweets'], 'mit', 'transformers')
    assert data.language == 'en' and data.widget == [{'text': 'My dream is'}] and data.thumbnail == 'https://x.y/t.png'
    assert data.to_dict().get('datasets') is None
    assert [l.split(':')[0] for l in text.split('---')[1].strip().splitlines() if not l.startswith(('-', ' '))] == \
           ['language', 'thumbnail', 'tags', 'widget', 'base_model', 'pipeline_tag', 'license', 'library_name']  # the seed's keys first, in its order
    assert ModelCard(str(render_card(SEED_META, 'a/b', license=None))).data.license is None
    other = ModelCard(str(render_card(meta(account('p', 'P', '', 1, 0, 0, 1), base='EleutherAI/pythia-70m'), 'a/b', license='apache-2.0')))
    assert (other.data.base_model, other.data.license) == ('EleutherAI/pythia-70m', 'apache-2.0')
    assert '[the same limitations and bias as EleutherAI/pythia-70m](https://huggingface.co/EleutherAI/pythia-70m#limitations-and-bias)' in other.content


@pytest.mark.parametrize('base', ['/home/me/models/proxy-gpt2', './proxy-gpt2', 'C:\\models\\proxy-gpt2', 'TMP'])
def test_local_base_not_in_front_matter(base, tmp_path):
    if base == 'TMP': (tmp_path/'proxy-gpt2').mkdir(); base = str(tmp_path/'proxy-gpt2')
    card = ModelCard(str(render_card(meta(account('p', 'P', '', 1, 0, 0, 1), base=base), 'a/b')))
    assert card.data.base_model is None and 'base_model' not in card.content.split('---')[1]
    assert 'a pre-trained proxy-gpt2 which' in card.content
    assert '/home/me' not in card.content and str(tmp_path) not in card.content
    assert hub_id('gpt2') == 'openai-community/gpt2' and hub_id(base) is None


def test_names_and_avatars_are_escaped(tmp_path):
    evil = account('x', '<img src=x onerror=alert(1)> | A&B', "https://x.y/a.jpg');background:url('http://evil", 1, 0, 0, 1)
    local = account('y', 'Y', './data/profile_media/y.jpg', 1, 0, 0, 1)
    text = render_card(meta(evil, local), 'me/x-y', folder=tmp_path).content
    assert '<img' not in text and '&lt;img src=x onerror=alert(1)&gt; \\| A&amp;B' in text  # the table's cell
    assert 'evil' not in text and './data/profile_media' not in text and 'display:inherit' not in text
    (tmp_path/'avatar-y.jpg').write_bytes(b'\xff\xd8')  # a picture shipped with the model
    text = render_card(meta(evil, local), 'me/x-y', folder=tmp_path).content
    assert "url(&#39;https://huggingface.co/me/x-y/resolve/main/avatar-y.jpg&#39;)" in text


def test_write_card(tmp_path, monkeypatch):
    monkeypatch.setenv('HF_TOKEN', 'hf_SECRET123')
    (tmp_path/'huggingtweets.json').write_text(json.dumps(SEED_META, ensure_ascii=False), encoding='utf-8')
    p = write_card(tmp_path, 'alice/p69ns')
    text = p.read_text(encoding='utf-8')
    assert p == tmp_path/'README.md' and text.endswith(')\n') and not text.endswith('\n\n')
    assert "model='alice/p69ns'" in text and 'hf_SECRET123' not in text
    assert sorted(x.name for x in tmp_path.iterdir()) == ['README.md', 'huggingtweets.json']  # no temporary file left
    assert ModelCard.load(p).data.base_model == 'openai-community/gpt2'
    with pytest.raises(UserError, match='no huggingtweets.json'): write_card(tmp_path/'nothing', 'a/b')


@pytest.mark.filterwarnings('ignore:.*characters of kept posts')
def test_card_of_a_training_run(tmp_path):
    "`finetune(before_save=...)` writes the card from the huggingtweets.json it has just written"
    pytest.importorskip('torch')
    from huggingtweets.train import make_tiny_model, finetune, TrainConfig
    from huggingtweets.dataset import make_dataset
    from huggingtweets.clean import curate
    from huggingtweets.sources import Account, Post
    tiny = make_tiny_model(tmp_path/'tiny-gpt2')
    posts = [Post(f'My dream is number {i}: to write a bot that tweets about {w}.') for i, w in enumerate(['cats', 'dogs', 'GPUs', 'tea'] * 40)]
    acc = Account('jack', 'x', posts, 'Jack <3', avatar='./data/profile_media/jack.jpg')
    ds = make_dataset([curate(acc)], epochs=1, seed=0)
    res = finetune(ds, tmp_path/'jack', TrainConfig(base_model=str(tiny), block_size=64, max_steps=2), progress=False,
                   before_save=lambda folder, _: write_card(folder, 'alice/jack'))
    card = ModelCard.load(res.model_dir/'README.md')
    assert card.data.base_model is None and card.data.tags == ['huggingtweets']
    assert "fine-tuned on @jack's tweets." in card.content and 'Jack &lt;3' in card.content
    assert f"| Tweets kept | {ds.info['accounts'][0]['stats']['kept']} |" in card.content
    assert "model='alice/jack'" in card.content and str(tmp_path) not in card.content and 'validation loss of' in card.content


def test_thumbnail_drawn_by_the_app_once_pushed(tmp_path):
    (tmp_path/'thumbnail.png').write_bytes(b'png')
    pushed = render_card(SEED_META, 'me/p69ns', folder=tmp_path)
    assert pushed.data.thumbnail == 'https://huggingface.co/me/p69ns/resolve/main/thumbnail.png'
    local = render_card(SEED_META, str(tmp_path), folder=tmp_path)
    assert local.data.thumbnail == SEED_AVATAR  # a local folder has no URL yet: the avatar stands in
