"""Memorization: how many generated tweets copy a training tweet, verbatim or nearly.

Texts are normalized (NFKC, lower case, whitespace collapsed, stripped). A generated tweet is
* `verbatim` when its normalized text equals a normalized training tweet;
* `near` when, for some training tweet, difflib's `SequenceMatcher(None, a, b).ratio()` is at least
  0.9 (about one character in twenty changed). Candidates are found cheaply: the 20 training tweets
  that share the most word trigrams with it (words for texts under three words), so a few hundred
  generations against thousands of tweets take well under a second.
`memorized` = verbatim or near. As a looser diagnostic, `span12` marks a generation that shares a run
of 12 or more consecutive words with a training tweet (a long quote inside a new tweet).
"""
import re, unicodedata
from collections import Counter, defaultdict
from difflib import SequenceMatcher

NEAR, SPAN, CANDIDATES = 0.9, 12, 20


def normalize(s:str)->str:
    return ' '.join(unicodedata.normalize('NFKC', s).lower().split())


def _words(s): return re.findall(r"\w+(?:'\w+)?", s)


def _grams(ws, n): return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)} if len(ws) >= n else {tuple(ws)} if ws else set()


def _longest_run(a, b):
    "Length of the longest run of consecutive words common to the word lists `a` and `b`"
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


class Memorization:
    "An index of training tweets that judges generated ones"
    def __init__(self, train:list[str]):
        self.texts = sorted({normalize(t) for t in train} - {''})
        self.exact = set(self.texts)
        self.words = [_words(t) for t in self.texts]
        self.index = defaultdict(list)
        for i, ws in enumerate(self.words):
            for g in _grams(ws, 3) | _grams(ws, 1): self.index[g].append(i)

    def judge(self, gen:str)->dict:
        "verbatim, near, span12, the best ratio and the closest training tweet"
        g = normalize(gen)
        res = dict(text=gen, verbatim=False, near=False, span12=False, ratio=0.0, closest=None)
        if not g: return res
        if g in self.exact: return res | dict(verbatim=True, near=True, span12=len(_words(g)) >= SPAN, ratio=1.0, closest=g)
        ws = _words(g)
        grams = _grams(ws, 3) if len(ws) >= 3 else _grams(ws, 1)
        hits = Counter(i for gr in grams for i in self.index.get(gr, ()))
        for i, _ in hits.most_common(CANDIDATES):
            r = SequenceMatcher(None, g, self.texts[i], autojunk=False).ratio()
            if r > res['ratio']: res.update(ratio=r, closest=self.texts[i])
            if not res['span12'] and _longest_run(ws, self.words[i]) >= SPAN: res['span12'] = True
        res['near'] = res['ratio'] >= NEAR
        return res

    def share(self, gens:list[str])->dict:
        "The shares of `gens` memorized (verbatim or near), verbatim, and with a 12-word span; and the copies"
        js = [self.judge(t) for t in gens]
        n = len(js) or 1
        return dict(n=len(js), memorized_share=sum(j['near'] for j in js) / n, verbatim_share=sum(j['verbatim'] for j in js) / n,
                    span12_share=sum(j['span12'] for j in js) / n,
                    copies=[dict(text=j['text'], closest=j['closest'], ratio=round(j['ratio'], 3)) for j in js if j['near']][:10])
