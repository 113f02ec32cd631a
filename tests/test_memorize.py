"The copy measure on hand-made cases and properties, and a tiny GPT-2 trained to copy: sample_memorization sees it, generate_new marks it."
import random
import pytest
import fastcore.test as fct
from huggingtweets.memorize import (CopyMeasure, TrainIndex, Memorization, Prediction, memorization, normalize, similarity,
                                    sample_memorization, generate_new)

TRAIN = ['Make America Great Again!', 'The media is so dishonest, they never report the truth about our great movement tonight in Ohio',
         'Thank you Iowa! See you soon.', '今日は東京で友達とラーメンを食べました。とても美味しかった！',
         'วันนี้อากาศดีมากเราไปเที่ยวทะเลกันทั้งครอบครัว']


def copies(ix, text): return bool((m := ix.match(text)) and m.copy)


def test_hand_made_cases():
    ix = TrainIndex(TRAIN)
    m = ix.match('  make AMERICA\ngreat again!')
    assert m.verbatim and m.copy and m.ratio == 1.0 and m.train == TRAIN[0]
    m = ix.match('The media is so dishonest, they never report the truth about our great movement tonight in Iowa') # one word changed
    assert m.copy and not m.verbatim and 0.9 <= m.ratio < 1 and m.train == TRAIN[1]
    assert not copies(ix, 'I will be interviewed on Fox News at 7 tonight. Enjoy!') # new, though it shares words
    m = ix.match('Wow. The media is so dishonest, they never report the truth about our great movement. Sad! Crooked Hillary is a disaster')
    assert not m.copy and m.span >= 12 # a long quote: the span shows it, the ratio does not
    m = ix.match('今日は大阪で友達とラーメンを食べました。とても美味しかった！') # one character changed, no spaces anywhere
    assert m.copy and m.train == TRAIN[3]
    assert not copies(ix, '明日は京都でお寺を見に行く予定です。楽しみ！')
    assert copies(ix, 'วันนี้อากาศดีมากเราไปเที่ยวทะเลกันทั้งครอบครัวนะ')
    for empty in ('', '   ', '\n'): assert ix.match(empty) is None
    r = memorization(['', 'Thank you iowa!  See you soon.', 'Golf in Scotland this weekend, the course is beautiful'], ix)
    fct.test_eq((r.n, len(r.copies), r.verbatim), (3, 1, 1/3))
    fct.test_eq(r.to_dict()['copies'], [dict(text='Thank you iowa!  See you soon.', train=TRAIN[2], ratio=1.0)])
    fct.test_eq(r.to_dict()['measure'], CopyMeasure().params())


def test_measure_parameters():
    strict = CopyMeasure(threshold=0.95)
    near = 'Thank you Ohio! See you soon.' # 0.93 to a training post
    assert memorization([near], TRAIN).share == 1.0
    assert memorization([near], TRAIN, strict).share == 0.0
    assert memorization([near], TrainIndex(TRAIN), strict).measure['threshold'] == 0.95 # a measure other than the index's: rebuilt
    with pytest.raises(Exception, match='at least 1'): CopyMeasure(candidates=0)


def test_candidates_find_the_copy_among_many():
    "The retrieval finds a near copy among thousands of similar posts"
    rnd = random.Random(0)
    vocab = 'great people country jobs tonight media news thank you america vote win big beautiful wall'.split()
    posts = [' '.join(rnd.choice(vocab) for _ in range(rnd.randint(8, 20))) for _ in range(3000)]
    ix = TrainIndex(posts)
    for p in rnd.sample(posts, 20):
        m = ix.match(p[:-1] + '!') # last character changed
        assert m.copy, (p, m)


try:
    from hypothesis import given, settings, strategies as st
except ImportError: # not in the dev requirements yet
    given = None

if given:
    ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?'#@éüçñ\n\tありがとう東京ラーメン"
    texts = st.text(alphabet=ALPHABET, max_size=80)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.text(max_size=60), min_size=1, max_size=8))
    def test_a_training_post_copies_itself(train):
        ix = TrainIndex(train)
        for t in train:
            m = ix.match(t)
            if not normalize(t): assert m is None
            else: assert m.verbatim and m.copy and m.ratio == 1.0 and normalize(m.train) == normalize(t)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(texts, min_size=1, max_size=6), st.data())
    def test_case_and_whitespace_do_not_matter(train, data):
        ix = TrainIndex(train)
        t = data.draw(st.sampled_from(train))
        seps = data.draw(st.lists(st.sampled_from([' ', '  ', '\n', '\t', ' \u3000 ']), min_size=len(t.split()) + 1, max_size=len(t.split()) + 1))
        variant = seps[0] + ''.join(w + s for w, s in zip(t.split(), seps[1:]))
        variant = variant.upper() if data.draw(st.booleans()) else variant.swapcase()
        fct.test_eq(normalize(variant), normalize(t))
        if normalize(t): assert ix.match(variant).verbatim

    @settings(max_examples=100, deadline=None)
    @given(st.text())
    def test_normalize_is_idempotent(t):
        fct.test_eq(normalize(normalize(t)), normalize(t))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(texts, min_size=1, max_size=6), st.data())
    def test_one_character_added_is_a_copy(train, data):
        t = data.draw(st.sampled_from(train))
        if len(normalize(t)) < 10: return
        m = TrainIndex(train).match(t + data.draw(st.sampled_from('x!東')))
        assert m.copy and not m.verbatim and m.ratio >= 0.9

    @settings(max_examples=60, deadline=None)
    @given(st.lists(texts, max_size=8), st.lists(texts, max_size=8))
    def test_shares_are_fractions(train, generated):
        r = memorization(generated, train)
        assert 0 <= r.verbatim <= r.share <= 1 and 0 <= r.span <= 1 and r.n == len(generated)
        fct.test_eq(len(r.copies), round(r.share * r.n))
        assert all(not normalize(g) == '' for g, _, _ in r.copies) # empty generations are never copies
        assert all(similarity(g, t) >= 0.9 for g, t, _ in r.copies)


# A tiny GPT-2 that has learnt five posts by heart: from the end-of-text token it can only write one of them.
POSTS = ['Alpha team wins the big game tonight and the whole city is celebrating in the streets until dawn',
         'Bright skies over the mountains this morning, a perfect day for a long walk with the dogs',
         'Coffee first, then emails, then the meeting that should have been an email, as every single Monday',
         'Dinner with old friends from school, we laughed about the same stories we have told for twenty years',
         'Every book on my shelf is a promise to my future self that I will read it one quiet weekend']


@pytest.fixture(scope='module')
def copier(tmp_path_factory):
    "(folder, (tokenizer, model)): a 2-layer GPT-2 trained hard on POSTS, in random orders, until it reproduces them"
    import torch
    from huggingtweets.train import make_tiny_model, set_generation_defaults
    from huggingtweets.generate import load_model
    folder = make_tiny_model(tmp_path_factory.mktemp('copier')/'model', texts=POSTS, n_layer=2, n_embd=64, n_head=2, n_positions=256)
    tok, model = load_model(folder, 'cpu')
    eos, ids = tok.eos_token_id, [tok(p, add_special_tokens=False).input_ids for p in POSTS]
    torch.manual_seed(0)
    rnd = random.Random(0)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    for step in range(200): # about 3 s on 2 cores; the loss ends near its floor, log(5) over a post's tokens
        rows = []
        for _ in range(4):
            order = rnd.sample(range(len(POSTS)), len(POSTS))
            rows.append([eos] + [t for i in order for t in ids[i] + [eos]])
        x = torch.tensor(rows)
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    set_generation_defaults(model, tok)
    model.save_pretrained(folder)
    return folder, (tok, model)


def test_sample_memorization_sees_copies(copier):
    folder, pair = copier
    r = sample_memorization(pair, POSTS, n=20, seed=0, batch_size=8)
    assert isinstance(r, Memorization) and r.n == 20
    assert r.share >= 0.8, r.to_dict()
    assert all(t in POSTS for _, t, _ in r.copies)
    again = sample_memorization(str(folder), TrainIndex(POSTS), n=20, seed=0, batch_size=8) # a folder; seeded: repeatable
    fct.test_eq(again.copies, r.copies)
    assert sample_memorization(pair, ['Nothing like what it learnt, about sailing boats'], n=10).share == 0


def test_generate_new_marks_what_it_cannot_replace(copier, monkeypatch):
    _, pair = copier
    import huggingtweets.generate as G
    calls, real = [], G.generate
    def counting(model, prompt, n, seed=None, **kw):
        calls.append(n)
        return real(model, prompt, n, seed, **kw)
    monkeypatch.setattr(G, 'generate', counting)
    preds = generate_new(pair, '', 10, POSTS, seed=0, max_rounds=2)
    assert all(isinstance(p, Prediction) for p in preds) and len(preds) == 10
    marked = [p for p in preds if p.copy_of]
    assert len(marked) >= 8 # it can only copy: most stay copies
    for p in marked: assert p.copy_of in POSTS and similarity(p.text, p.copy_of) >= 0.9
    for p in preds:
        if not p.copy_of: assert memorization([p.text], POSTS).share == 0
    assert calls[0] == 10 and len(calls) <= 3 and all(a >= b for a, b in zip(calls, calls[1:])) # the copies only, one batch a round

    calls.clear()
    preds = generate_new(pair, '', 10, POSTS[:2], seed=0, max_rounds=3) # only two of what it writes count as training posts
    first = [memorization([t], POSTS[:2]).share for t in real(pair, '', 10, 0)]
    assert sum(first) and calls[1] == sum(first) # the first round's copies, resampled together
    assert all(p.copy_of is None or p.copy_of in POSTS[:2] for p in preds)
    assert sum(p.copy_of is not None for p in preds) < sum(first)

    preds = generate_new(pair, 'Coffee first', 6, ['A training set that holds none of what it writes, about sailing boats'], seed=1)
    assert all(p.copy_of is None for p in preds) and all(p.text.startswith('Coffee first') for p in preds)
