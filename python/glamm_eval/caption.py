"""COCO caption metrics with the API of pycocoevalcap (salaniz/pycocoevalcap @ ad63453, the Python 3 port of
tylin/coco-caption), without Java.

Change the imports and nothing else::

    from glamm_eval.caption import COCOEvalCap          # was: from pycocoevalcap.eval import COCOEvalCap
    from glamm_eval.caption import PTBTokenizer, Bleu, Meteor, Rouge, Cider

The classes compute the numbers of the ``glamm-eval captions`` command bit for bit (the same C++ functions):
``PTBTokenizer`` is Stanford CoreNLP 3.4.1's ``PTBTokenizer -preserveLines -lowerCase`` followed by pycocoevalcap's
punctuation filter, ``Bleu`` BLEU-1..4 with the "closest" reference length, ``Meteor`` METEOR 1.5 (``-l en -norm``),
``Rouge`` ROUGE-L (beta 1.2), ``Cider`` CIDEr-D (n 4, sigma 6). ``SpiceStyle`` is SPICE 1.0's tuple scoring with the
Link Grammar parser in place of CoreNLP: *not* the Java SPICE, and never reported under the key ``SPICE``.

Return types follow the reference: ``Bleu`` returns lists, ``Meteor`` a float and a list, ``Rouge`` and ``Cider`` a
``numpy.float64`` and a float64 array. Where pycocoevalcap fails an ``assert`` (different image ids in ``gts`` and
``res``, not exactly one candidate per image, no reference) these classes raise ``ValueError`` naming the image.

Every class takes a keyword-only ``threads`` (``None`` or 0 = all cores, as ``--threads``); the results do not depend
on it. The GIL is released while the C++ code runs. Guide: docs/python.md, "glamm_eval.caption".
"""

import numbers
import os
import sys
import threading
import warnings

import numpy as np

from glamm_eval import _core
from glamm_eval._args import threads_arg

_c = _core.caption

__all__ = ["PTBTokenizer", "Bleu", "Meteor", "Rouge", "Cider", "SpiceStyle", "COCOEvalCap"]


_threads = threads_arg


def _warn(messages):
    for m in messages:
        warnings.warn(m, RuntimeWarning, stacklevel=3)


def _ids(keys, limit=5):
    keys = list(keys)
    text = ", ".join(repr(k) for k in keys[:limit])
    return text + (f" (and {len(keys) - limit} more)" if len(keys) > limit else "")


def _scorer_input(gts, res, name):
    """The checks pycocoevalcap's scorers assert, as ValueError: the same image ids in both dicts, one candidate
    (a list of one str) and at least one reference (a non-empty list) per image. Returns keys in gts order, the
    reference lists and the candidates."""
    if gts.keys() != res.keys():
        only_gts = [k for k in gts.keys() if k not in res]
        only_res = [k for k in res.keys() if k not in gts]
        parts = []
        if only_gts:
            parts.append(f"only in gts: {_ids(only_gts)}")
        if only_res:
            parts.append(f"only in res: {_ids(only_res)}")
        raise ValueError(f"{name}: gts and res must hold the same image ids ({'; '.join(parts)})")
    keys = list(gts.keys())
    if not keys:
        raise ValueError(f"{name}: no images to score (gts and res are empty)")
    refs, hyps = [], []
    for k in keys:
        hypo, ref = res[k], gts[k]
        if type(hypo) is not list or len(hypo) != 1:
            got = f"a list of {len(hypo)}" if type(hypo) is list else type(hypo).__name__
            raise ValueError(f"{name}: res[{k!r}] must be a list holding exactly one caption, got {got}")
        if type(ref) is not list or len(ref) < 1:
            got = "an empty list" if type(ref) is list else type(ref).__name__
            raise ValueError(f"{name}: gts[{k!r}] must be a non-empty list of reference captions, got {got}")
        refs.append(ref)
        hyps.append(hypo[0])
    return keys, refs, hyps


def _resource_arg(value, what):
    if value is None:
        return ""
    if value is False:
        return "-"
    value = os.fspath(value)
    if value == "":
        raise ValueError(f"{what} must not be empty (None looks it up)")
    return value


class PTBTokenizer:
    """pycocoevalcap's ``PTBTokenizer`` (tokenizer/ptbtokenizer.py) without Java: Stanford CoreNLP 3.4.1's
    ``PTBTokenizer -preserveLines -lowerCase`` reimplemented in C++, then the wrapper's punctuation filter (the
    tokens ``'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`` are dropped).

    ``strict``: treat the line-break characters other than ``\\n`` (\\r, U+000B, U+000C, U+2028, U+2029) inside a
    caption as spaces. By default they start a new tokenizer line, as in pycocoevalcap, which shifts every later
    caption of the call onto the wrong image; a ``RuntimeWarning`` is issued either way when such characters occur
    (``glamm-eval captions --strict``). ``threads``: None or 0 = all cores.
    """

    def __init__(self, *, strict=False, threads=None):
        self._strict = bool(strict)
        self._threads = _threads(threads)

    def tokenize(self, captions_for_image):
        """``{image_id: [{'caption': str, ...}, ...]}`` → ``{image_id: [tokenized str, ...]}``, keys in input order,
        captions in list order. All captions of the call are tokenized as one text (as the reference's single Java
        run: the next caption is look-ahead context for the last token of a caption). Raises KeyError for an entry
        without ``'caption'``, TypeError for a caption that is not a str."""
        image_id = [k for k, v in captions_for_image.items() for _ in range(len(v))]
        sentences = [c["caption"] for k, v in captions_for_image.items() for c in v]
        try:
            tokenized, _, warns = _c.tokenize(sentences, self._strict, self._threads)
        except (TypeError, ValueError) as e:
            raise type(e)(self._bad_caption(captions_for_image, e)) from None
        _warn(["PTB tokenizer: " + w for w in warns])
        final_tokenized_captions_for_image = {}
        for k, line in zip(image_id, tokenized):
            if k not in final_tokenized_captions_for_image:
                final_tokenized_captions_for_image[k] = []
            final_tokenized_captions_for_image[k].append(line)
        return final_tokenized_captions_for_image


    @staticmethod
    def _bad_caption(captions_for_image, error):
        """The message for a caption the C++ side refused (not a str, or a lone surrogate), naming its image."""
        for k, v in captions_for_image.items():
            for j, c in enumerate(v):
                text = c["caption"]
                if type(text) is not str:
                    return f"PTBTokenizer: the caption of {k!r}[{j}] must be a str, got {type(text).__name__}"
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    return f"PTBTokenizer: the caption of {k!r}[{j}] cannot be encoded as UTF-8 (a lone surrogate)"
        return str(error)


class Bleu:
    """pycocoevalcap's ``Bleu(n=4)`` (bleu/bleu.py, David Chiang's BleuScorer with the "closest" reference length):
    corpus BLEU-1..n from summed clipped n-gram counts, per-image scores epsilon-smoothed as the reference.

    ``n`` must be 1..4 (the reference fails with an IndexError above 4; here a ValueError).
    """

    def __init__(self, n=4, *, threads=None):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= 4:
            raise ValueError(f"Bleu: n must be 1, 2, 3 or 4, got {n!r}")
        self._n = int(n)
        self._hypo_for_image = {}
        self.ref_for_image = {}
        self._threads = _threads(threads)

    def compute_score(self, gts, res, verbose=1):
        """``gts``: ``{image_id: [ref str, ...]}``, ``res``: ``{image_id: [candidate str]}`` (tokenized; the same
        keys). Returns ``(score, scores)``: ``score`` a list of n floats (Bleu_1..Bleu_n), ``scores`` a list of n
        lists of per-image floats in ``gts`` key order. ``verbose`` ≥ 1 prints the count dict
        ``{'testlen': .., 'reflen': .., 'guess': [..], 'correct': [..]}`` and ``ratio: ..`` as the reference;
        ≥ 2 also each image's counts. ValueError where the reference asserts."""
        keys, refs, hyps = _scorer_input(gts, res, "Bleu")
        r = _c.score(keys, refs, hyps, "bleu", None, self._threads)
        n = self._n
        if verbose > 1:
            for ref, (testlen, reflen, guess, correct) in zip(refs, r["bleu_counts"]):
                comps = {"reflen": [len(s.split()) for s in ref], "testlen": testlen, "guess": guess,
                         "correct": correct}
                print(comps, reflen)
        if verbose > 0:
            testlen, reflen, guess, correct = r["bleu_total"]
            print({"testlen": testlen, "reflen": reflen, "guess": guess[:n], "correct": correct[:n]})
            print("ratio:", r["bleu_ratio"])
        score = [value for _, value in r["metrics"][:n]]
        scores = [list(r["bleu"][k]) for k in range(n)]
        return score, scores

    def method(self):
        return "Bleu"


class Meteor:
    """pycocoevalcap's ``Meteor()`` (meteor/meteor.py) without Java: METEOR 1.5 (``-l en -norm``, modules exact,
    stem, synonym and, when its table is found, paraphrase) reimplemented in C++.

    The resources are found as ``glamm-eval captions`` finds them (docs/meteor-resources.md): ``resources`` (a
    folder with english.synsets, english.exceptions, english.words, english.prefixes, or pycocoevalcap's
    meteor-1.5.jar), else env ``GLAMM_METEOR_RESOURCES``, an installed pycocoevalcap's jar, then the copy installed
    with this package. The paraphrase table ``paraphrase-en.gz``: ``paraphrase`` (a path; ``False``, ``"-"`` or
    ``"off"`` turns the module off), else env ``GLAMM_METEOR_PARAPHRASE``, next to the resources, an installed
    pycocoevalcap. Without the official table METEOR is not comparable with pycocoevalcap's: a ``RuntimeWarning``
    says so.

    Raises :class:`glamm_eval.InputError` (a ValueError) when no resources are found or a resource file is
    unreadable or malformed, naming the file. The resources are loaded once, in the constructor.
    """

    def __init__(self, *, resources=None, paraphrase=None, threads=None):
        self._threads = _threads(threads)
        self._meteor = _c.load_meteor(_resource_arg(resources, "resources"),
                                      _resource_arg(paraphrase, "paraphrase"), False)
        self.lock = threading.Lock()
        # The command line's warnings, with its flag named as this class's argument.
        _warn([w.replace("pass --meteor-paraphrase paraphrase-en.gz",
                         "pass paraphrase='paraphrase-en.gz' (COCOEvalCap: meteor_paraphrase=)")
               for w in self._meteor.warnings])

    @property
    def source(self):
        """The resource folder or jar in use."""
        return self._meteor.source

    @property
    def paraphrase(self):
        """``'official'``, ``'other:<sha256 prefix>'`` or ``'off'`` (the CLI record's ``meteor_paraphrase``)."""
        return self._meteor.paraphrase

    def compute_score(self, gts, res):
        """``(score, scores)``: the corpus METEOR (float, from the summed sufficient statistics as METEOR's EVAL
        line) and the per-image segment scores (list of floats, ``gts`` key order). The candidate is cleaned as the
        reference cleans it ("|||" removed, double spaces made single). ValueError where the reference asserts."""
        keys, refs, hyps = _scorer_input(gts, res, "Meteor")
        with self.lock:
            r = _c.score(keys, refs, hyps, "meteor", self._meteor, self._threads)
        return r["metrics"][0][1], list(r["meteor"])

    def method(self):
        return "METEOR"


class Rouge:
    """pycocoevalcap's ``Rouge()`` (rouge/rouge.py): ROUGE-L, LCS over ``split(" ")`` tokens, beta 1.2, precision
    and recall maximised separately over the references."""

    def __init__(self, *, threads=None):
        self.beta = 1.2
        self._threads = _threads(threads)

    def calc_score(self, candidate, refs):
        """ROUGE-L of ``candidate`` (a list of one str) against ``refs`` (a non-empty list of str) → float."""
        if len(candidate) != 1:
            raise ValueError(f"Rouge.calc_score: candidate must hold exactly one caption, got {len(candidate)}")
        if len(refs) == 0:
            raise ValueError("Rouge.calc_score: refs must hold at least one caption")
        return _c.rouge_l(candidate[0], list(refs))

    def compute_score(self, gts, res):
        """``(average_score, scores)``: ``numpy.float64`` mean (NumPy's summation) and the per-image scores as a
        float64 array of shape (number of images,), ``gts`` key order. ValueError where the reference asserts."""
        keys, refs, hyps = _scorer_input(gts, res, "Rouge")
        r = _c.score(keys, refs, hyps, "rouge", None, self._threads)
        return np.float64(r["metrics"][0][1]), np.array(r["rouge"], dtype=np.float64)

    def method(self):
        return "Rouge"


class Cider:
    """pycocoevalcap's ``Cider()`` (cider/cider.py), which is CIDEr-D: n-grams 1..4, document frequencies from the
    references of the images scored in the call, clipped weights, Gaussian length penalty (sigma 6), times 10.
    CIDEr of a single image is 0 by construction (every weight is ln 1 − ln 1).

    Only pycocoevalcap's defaults ``n=4``, ``sigma=6.0`` are implemented (ValueError otherwise); ``test`` and
    ``refs`` are ignored, as in the reference.
    """

    def __init__(self, test=None, refs=None, n=4, sigma=6.0, *, threads=None):
        if n != 4 or sigma != 6.0:
            raise ValueError(f"Cider: only n=4 and sigma=6.0 (pycocoevalcap's defaults) are implemented, got n={n!r}, "
                             f"sigma={sigma!r}")
        self._n = n
        self._sigma = sigma
        self._threads = _threads(threads)

    def compute_score(self, gts, res):
        """``(score, scores)``: ``numpy.float64`` mean and the per-image CIDEr-D as a float64 array of shape
        (number of images,), ``gts`` key order. ValueError where the reference asserts."""
        keys, refs, hyps = _scorer_input(gts, res, "Cider")
        r = _c.score(keys, refs, hyps, "cider", None, self._threads)
        return np.float64(r["metrics"][0][1]), np.array(r["cider"], dtype=np.float64)

    def method(self):
        return "CIDEr"


class SpiceStyle:
    """The SPICE-style score: SPICE 1.0's scene-graph tuples and scoring with the CMU Link Grammar parser in place of
    Stanford CoreNLP (``glamm-eval captions --spice``). It is *not* pycocoevalcap's ``Spice`` (which runs Java
    SPICE 1.0) and its numbers differ from SPICE's; report it as "SPICE-style (Link Grammar parser)".

    Synonyms come from METEOR's english.synsets, found as :class:`Meteor` finds its resources (``resources``;
    no paraphrase table is needed). Raises :class:`glamm_eval.InputError` when the resources or the Link Grammar
    dictionary cannot be loaded. About 3-5 ms per distinct caption on one thread.
    """

    def __init__(self, *, resources=None, threads=None):
        self._threads = _threads(threads)
        self._resources = _c.load_meteor(_resource_arg(resources, "resources"), "-", True)
        self.details = None

    def compute_score(self, gts, res):
        """``(average_score, scores)`` as pycocoevalcap's ``Spice.compute_score`` shapes them: ``numpy.float64`` mean
        of the per-image "All" F, and per image a dict ``{category: {'pr', 're', 'f', 'fn', 'numImages', 'fp',
        'tp'}}`` of floats (nan where a category has no reference tuple) for the categories All, Object, Attribute,
        Relation, Cardinality, Color, Size. Unlike the reference, which sorts the image ids (and then
        ``COCOEvalCap`` pairs the sorted scores with unsorted ids), the scores are in ``gts`` key order.
        ``self.details`` then holds the subset averages, the parse counts and the parser version."""
        keys, refs, hyps = _scorer_input(gts, res, "SpiceStyle")
        r = _c.spice_style(keys, refs, hyps, self._resources, self._threads)
        self.details = {"average": r["average"], "counts": r["counts"], "parser": r["parser"]}
        return np.float64(r["score"]), r["per_image"]

    def method(self):
        return "SPICE-style"


class COCOEvalCap:
    """pycocoevalcap's ``COCOEvalCap(coco, cocoRes)`` (eval.py) without Java.

    ``coco`` and ``cocoRes`` are COCO objects (``glamm_eval.coco.COCO`` or pycocotools'; only ``getImgIds()`` and
    ``imgToAnns`` are used, ``imgToAnns[id]`` being a list of annotation dicts with ``'caption'``).
    ``params['image_id']`` starts as ``coco.getImgIds()``; set it to ``cocoRes.getImgIds()`` to score the images
    that have results. ``evaluate()`` prints and fills ``eval`` (metric → corpus value), ``imgToEval`` (image id →
    {'image_id', metric → value}) and ``evalImgs`` as the reference, for Bleu_1..Bleu_4, METEOR, ROUGE_L and CIDEr.

    Differences from the reference: SPICE is not computed by default (the reference runs Java SPICE under the key
    ``SPICE``); ``spice="style"`` adds the SPICE-style score (:class:`SpiceStyle`) under the key ``SPICE-style``,
    never ``SPICE``. ``meteor_resources`` / ``meteor_paraphrase`` are :class:`Meteor`'s ``resources`` /
    ``paraphrase`` (default: looked up as ``glamm-eval captions`` does), ``strict`` is :class:`PTBTokenizer`'s,
    ``threads`` every scorer's. Errors: ValueError where the reference's scorers assert (an image without exactly
    one result caption or without a reference), :class:`glamm_eval.InputError` for missing METEOR resources.
    """

    def __init__(self, coco, cocoRes, spice=None, *, threads=None, meteor_resources=None, meteor_paraphrase=None,
                 strict=False):
        if spice not in (None, "style"):
            raise ValueError(f"COCOEvalCap: spice must be None or 'style' (the SPICE-style score, not Java SPICE), "
                             f"got {spice!r}")
        self._threads = _threads(threads)
        self._spice = spice
        self._meteor_resources = meteor_resources
        self._meteor_paraphrase = meteor_paraphrase
        self._strict = bool(strict)
        self.evalImgs = []
        self.eval = {}
        self.imgToEval = {}
        self.coco = coco
        self.cocoRes = cocoRes
        self.params = {"image_id": coco.getImgIds()}

    def evaluate(self):
        """Tokenize the references and the results of ``params['image_id']`` (two PTBTokenizer calls), run the
        scorers, print ``Bleu_1: 0.634`` ... lines as the reference and fill ``eval``, ``imgToEval``, ``evalImgs``."""
        imgIds = self.params["image_id"]
        gts = {}
        res = {}
        for imgId in imgIds:
            gts[imgId] = self.coco.imgToAnns[imgId]
            res[imgId] = self.cocoRes.imgToAnns[imgId]

        print("tokenization...")
        tokenizer = PTBTokenizer(strict=self._strict, threads=self._threads)
        gts = tokenizer.tokenize(gts)
        res = tokenizer.tokenize(res)

        print("setting up scorers...")
        scorers = [
            (Bleu(4, threads=self._threads), ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"]),
            (Meteor(resources=self._meteor_resources, paraphrase=self._meteor_paraphrase, threads=self._threads),
             "METEOR"),
            (Rouge(threads=self._threads), "ROUGE_L"),
            (Cider(threads=self._threads), "CIDEr"),
        ]
        if self._spice == "style":
            scorers.append((SpiceStyle(resources=self._meteor_resources, threads=self._threads), "SPICE-style"))

        for scorer, method in scorers:
            print("computing %s score..." % (scorer.method()))
            score, scores = scorer.compute_score(gts, res)
            if type(method) == list:
                for sc, scs, m in zip(score, scores, method):
                    self.setEval(sc, m)
                    self.setImgToEvalImgs(scs, gts.keys(), m)
                    print("%s: %0.3f" % (m, sc))
            else:
                self.setEval(score, method)
                self.setImgToEvalImgs(scores, gts.keys(), method)
                print("%s: %0.3f" % (method, score))
        self.setEvalImgs()
        sys.stdout.flush()

    def setEval(self, score, method):
        self.eval[method] = score

    def setImgToEvalImgs(self, scores, imgIds, method):
        for imgId, score in zip(imgIds, scores):
            if imgId not in self.imgToEval:
                self.imgToEval[imgId] = {}
                self.imgToEval[imgId]["image_id"] = imgId
            self.imgToEval[imgId][method] = score

    def setEvalImgs(self):
        self.evalImgs = [eval for imgId, eval in self.imgToEval.items()]
