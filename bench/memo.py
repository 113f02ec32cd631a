"""Memorization: how many generated tweets copy a training tweet, verbatim or nearly.

The measure is the library's, `huggingtweets.memorize` (nbs/11_memorize.ipynb documents it): texts are normalized
(NFKC, lower case, whitespace collapsed); a generated tweet is
* `verbatim` when its normalized text equals a normalized training tweet's;
* `near` when difflib's `SequenceMatcher(autojunk=False)` ratio to a training tweet is at least 0.9 (verbatim
  included). It is compared with 20 candidates: the training tweets sharing the most character 4-grams with it,
  rarer grams weighing more.
`memorized` = verbatim or near. As a looser diagnostic, `span12` marks a generation that shares a run of 12 or more
consecutive words with a training tweet (a long quote inside a new tweet).
This module keeps the field names that bench.py and RESULTS.md use.
"""
from huggingtweets.memorize import CopyMeasure, TrainIndex, memorization, normalize

MEASURE = CopyMeasure()
NEAR, SPAN, CANDIDATES = MEASURE.threshold, MEASURE.span, MEASURE.candidates


class Memorization:
    "An index of training tweets that judges generated ones"
    def __init__(self, train:list[str]): self.index = TrainIndex(train, MEASURE)

    def judge(self, gen:str)->dict:
        "verbatim, near, span12, the best ratio and the closest training tweet"
        m = self.index.match(gen)
        if m is None: return dict(text=gen, verbatim=False, near=False, span12=False, ratio=0.0, closest=None)
        return dict(text=gen, verbatim=m.verbatim, near=m.copy, span12=m.span >= SPAN, ratio=m.ratio, closest=m.train)

    def share(self, gens:list[str])->dict:
        "The shares of `gens` memorized (verbatim or near), verbatim, and with a 12-word span; the first copies; the measure"
        r = memorization(gens, self.index)
        return dict(n=r.n, memorized_share=r.share, verbatim_share=r.verbatim, span12_share=r.span,
                    copies=[dict(text=g, closest=t, ratio=round(x, 3)) for g, t, x in r.copies][:10], measure=r.measure)
