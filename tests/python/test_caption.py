"""glamm_eval.caption on small hand-written captions: the values, types, shapes and printed output of
pycocoevalcap's scorers (the expected numbers were produced by pycocoevalcap's own pure-Python Bleu, Rouge and
Cider on the same strings, or are worked out below), the tokenizer's line handling, COCOEvalCap's bookkeeping and
the errors."""

import json
import math
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import glamm_eval
from glamm_eval.caption import COCOEvalCap, Bleu, Cider, Meteor, PTBTokenizer, Rouge, SpiceStyle
from glamm_eval.coco import COCO

RAW_GTS = {
    1: ["A man is riding a horse on the beach.", "A person rides a brown horse", "Man on horseback near the ocean"],
    2: ["Two cats sleeping on a bed.", "A pair of cats lying on a blanket"],
    "img3": ["A red double-decker bus on a city street", "A bus driving down the road."],
}
RAW_RES = {1: ["A man riding a horse."], 2: ["A cat on a bed"], "img3": ["a red bus, on the street"]}

GTS = {1: ["a man is riding a horse on the beach", "a person rides a brown horse", "man on horseback near the ocean"],
       2: ["two cats sleeping on a bed", "a pair of cats lying on a blanket"],
       "img3": ["a red double-decker bus on a city street", "a bus driving down the road"]}
RES = {1: ["a man riding a horse"], 2: ["a cat on a bed"], "img3": ["a red bus on the street"]}

# pycocoevalcap 1.2's Bleu(4), Rouge() and Cider() on GTS/RES.
BLEU = [0.8273408460696406, 0.6270124607739014, 0.4109274718944224, 5.4384816764975355e-05]
BLEU_PER_IMAGE = [[0.8187307527504899, 0.6549846022003919, 0.9999999996666668],
                  [0.7090416307237545, 0.5178107938101979, 0.6324555318123166],
                  [0.5157680547617896, 0.4182673989233556, 4.64158883188508e-06],
                  [8.657023703488241e-05, 7.39806748512946e-05, 1.3512001542609246e-08]]
BLEU_PRINTED = ("{'testlen': 16, 'reflen': 18, 'guess': [16, 13, 10, 7], 'correct': [15, 7, 2, 0]}\n"
                "ratio: 0.8888888888395061\n")
ROUGE = 0.6374304095271887
ROUGE_PER_IMAGE = [0.6792873051224945, 0.5366568914956013, 0.6963470319634703]
CIDER = 1.470657623234439
CIDER_PER_IMAGE = [1.4800158911492136, 1.2148612574568722, 1.7170957210972315]


def as_anns(raw):
    return {k: [{"caption": c} for c in v] for k, v in raw.items()}


def coco_pair(raw_gts=RAW_GTS, raw_res=RAW_RES):
    """A COCO captions GT and its results as glamm_eval.coco objects (integer ids only: 'img3' becomes 3)."""
    ids = {k: (k if isinstance(k, int) else 3) for k in raw_gts}
    images, anns = [], []
    for k, caps in raw_gts.items():
        images.append({"id": ids[k]})
        for c in caps:
            anns.append({"id": len(anns) + 1, "image_id": ids[k], "caption": c})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": anns}
    gt.createIndex()
    res = gt.loadRes([{"image_id": ids[k], "caption": v[0]} for k, v in raw_res.items()])
    return gt, res


# ---------------------------------------------------------------------------------------------------- tokenizer

def test_tokenizer_output_as_pycocoevalcap():
    out = PTBTokenizer().tokenize(as_anns(RAW_GTS))
    assert out == GTS
    assert list(out) == [1, 2, "img3"]
    assert PTBTokenizer().tokenize(as_anns(RAW_RES)) == RES


@pytest.mark.parametrize("caption,tokenized", [
    ("A man's dog isn't happy.", "a man 's dog is n't happy"),
    ("Can't stop, won't stop", "ca n't stop wo n't stop"),
    ('"STOP".', "stop"),
    ("(maybe 5) {blue}", "-lrb- maybe 5 -rrb- -lcb- blue -rcb-"),
    ("a cat - sitting -- here...", "a cat sitting here"),
    ("What?! No!", "what ?! no"),
    ("$5 for 50%", "$ 5 for 50 %"),
])
def test_tokenizer_ptb_rules_and_punctuation_filter(caption, tokenized):
    assert PTBTokenizer().tokenize({7: [{"caption": caption}]}) == {7: [tokenized]}


def test_tokenizer_ignores_other_fields_and_replaces_newlines():
    out = PTBTokenizer().tokenize({"a": [{"caption": "Two\nlines", "id": 4, "image_id": "a"}], "b": []})
    assert out == {"a": ["two lines"]}  # an image without captions gets no entry, as in the reference
    assert PTBTokenizer().tokenize({}) == {}


def test_tokenizer_line_break_shift_as_reference_and_strict():
    captions = {1: [{"caption": "a\rb"}], 2: [{"caption": "c d"}]}
    with pytest.warns(RuntimeWarning, match="misalign"):
        assert PTBTokenizer().tokenize(captions) == {1: ["a"], 2: ["b"]}  # pycocoevalcap's shifted lines
    with pytest.warns(RuntimeWarning, match="treated them as spaces"):
        assert PTBTokenizer(strict=True).tokenize(captions) == {1: ["a b"], 2: ["c d"]}


def test_tokenizer_errors():
    with pytest.raises(KeyError):
        PTBTokenizer().tokenize({1: [{"text": "no caption key"}]})
    with pytest.raises(TypeError, match=r"caption of 1\[0\] must be a str, got bytes"):
        PTBTokenizer().tokenize({1: [{"caption": b"bytes"}]})
    with pytest.raises(ValueError, match=r"caption of 'b'\[1\] cannot be encoded as UTF-8"):
        PTBTokenizer().tokenize({"a": [{"caption": "ok"}], "b": [{"caption": "ok"}, {"caption": "lone \ud800"}]})
    with pytest.raises(ValueError, match="threads"):
        PTBTokenizer(threads=-1)


# ------------------------------------------------------------------------------------------------------- scorers

def test_bleu_values_types_and_printed_stats(capsys):
    score, scores = Bleu(4).compute_score(GTS, RES)
    assert capsys.readouterr().out == BLEU_PRINTED
    assert score == BLEU and scores == BLEU_PER_IMAGE
    assert type(score) is list and all(type(v) is float for v in score)
    assert type(scores) is list and all(type(l) is list and len(l) == 3 for l in scores)
    assert all(type(v) is float for l in scores for v in l)
    # Image 1 worked by hand: all 5 unigrams match (clipped 'a' count 2), closest reference length 6.
    p1 = (5 + 1e-15) / (5 + 1e-9)
    assert scores[0][0] == p1 * math.exp(1 - 1 / ((5 + 1e-15) / (6 + 1e-9)))


def test_bleu_smaller_n_and_verbosity(capsys):
    score, scores = Bleu(2).compute_score(GTS, RES, verbose=0)
    assert capsys.readouterr().out == ""
    assert score == BLEU[:2] and scores == BLEU_PER_IMAGE[:2]
    Bleu(2).compute_score(GTS, RES)
    assert capsys.readouterr().out == ("{'testlen': 16, 'reflen': 18, 'guess': [16, 13], 'correct': [15, 7]}\n"
                                       "ratio: 0.8888888888395061\n")
    Bleu(1).compute_score({1: GTS[1]}, {1: RES[1]}, verbose=2)
    # verbose 2 also prints each image's cooked counts and its chosen reference length, as BleuScorer does
    assert capsys.readouterr().out.splitlines()[0] == \
        "{'reflen': [9, 6, 6], 'testlen': 5, 'guess': [5, 4, 3, 2], 'correct': [5, 3, 1, 0]} 6"
    assert Bleu().method() == "Bleu"


def test_rouge_and_cider_values_and_numpy_types():
    score, scores = Rouge().compute_score(GTS, RES)
    assert type(score) is np.float64 and score == ROUGE
    assert type(scores) is np.ndarray and scores.dtype == np.float64 and scores.shape == (3,)
    assert scores.tolist() == ROUGE_PER_IMAGE
    assert Rouge().calc_score(RES[2], GTS[2]) == ROUGE_PER_IMAGE[1]
    score, scores = Cider().compute_score(GTS, RES)
    assert type(score) is np.float64 and score == pytest.approx(CIDER, rel=1e-14)
    assert type(scores) is np.ndarray and scores.dtype == np.float64 and scores.shape == (3,)
    assert scores.tolist() == pytest.approx(CIDER_PER_IMAGE, rel=1e-14)
    assert (Rouge().method(), Cider().method()) == ("Rouge", "CIDEr")
    # one image: CIDEr-D is 0 by construction (document frequencies from that image's references)
    assert Cider().compute_score({1: GTS[1]}, {1: RES[1]})[0] == 0.0


def test_rouge_by_hand():
    # LCS("a b c d", "a c d e") = 3: P = 3/4, R = 3/4, F = P with beta 1.2
    assert Rouge().calc_score(["a b c d"], ["a c d e"]) == pytest.approx(0.75, abs=1e-15)
    assert Rouge().calc_score(["x y"], ["a b"]) == 0.0


def test_meteor_types_and_bounds():
    m = Meteor(paraphrase=False)
    assert m.paraphrase == "off" and os.path.exists(m.source)
    gts = {1: ["a man rides a brown horse on the beach"], 2: ["two cats sleep on a bed"]}
    res = {1: ["a man rides a brown horse on the beach"], 2: ["purple"]}
    score, scores = m.compute_score(gts, res)
    assert type(score) is float and type(scores) is list and all(type(v) is float for v in scores)
    # identical caption: every word matched in one chunk (no fragmentation penalty); no match at all: 0
    assert scores[0] == pytest.approx(1.0, abs=1e-12) and scores[1] == 0.0
    assert 0.0 < score < 1.0
    # the corpus score comes from summed statistics, not the mean of the segment scores
    assert score != pytest.approx(sum(scores) / 2, abs=1e-3)
    assert m.method() == "METEOR"


def test_threads_do_not_change_results():
    gts = {i: [f"a dog number {i} runs on the grass", f"dog {i} in a park"] for i in range(300)}
    res = {i: [f"a dog {i} runs in the park"] for i in range(300)}
    for cls in (Rouge, Cider):
        a, b = cls(threads=1).compute_score(gts, res), cls(threads=4).compute_score(gts, res)
        assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert Bleu(threads=1).compute_score(gts, res, 0) == Bleu(threads=3).compute_score(gts, res, 0)
    assert Meteor(threads=1).compute_score(gts, res) == Meteor(threads=4).compute_score(gts, res)


@pytest.mark.parametrize("cls", [Bleu, Rouge, Cider, Meteor])
def test_scorer_errors_where_the_reference_asserts(cls):
    scorer = cls()
    with pytest.raises(ValueError, match="same image ids.*only in gts: 2"):
        scorer.compute_score(GTS, {1: RES[1], "img3": RES["img3"]})
    with pytest.raises(ValueError, match=r"res\[2\] must be a list holding exactly one caption, got a list of 2"):
        scorer.compute_score(GTS, {**RES, 2: ["one", "two"]})
    with pytest.raises(ValueError, match=r"gts\['img3'\] must be a non-empty list"):
        scorer.compute_score({**GTS, "img3": []}, RES)
    with pytest.raises(ValueError, match="no images"):
        scorer.compute_score({}, {})
    with pytest.raises(TypeError, match="must be a str"):
        scorer.compute_score({1: [3]}, {1: ["x"]})


def test_constructor_errors():
    with pytest.raises(ValueError, match="n must be"):
        Bleu(5)
    with pytest.raises(ValueError, match="n=4 and sigma=6.0"):
        Cider(n=3)
    with pytest.raises(glamm_eval.InputError) as e:
        Meteor(resources="/nonexistent/meteor-resources")
    assert "/nonexistent/meteor-resources" in str(e.value)
    with pytest.raises(ValueError, match="spice must be None or 'style'"):
        COCOEvalCap(*coco_pair(), spice=True)


def test_meteor_resources_missing_is_a_clear_error(tmp_path):
    """A package copy without share/ (and no pycocoevalcap, no env) raises InputError at Meteor(), promptly."""
    pkg = tmp_path / "glamm_eval"
    pkg.mkdir()
    for f in pathlib.Path(glamm_eval.__file__).parent.iterdir():
        if f.name.endswith(".py") or f.name.startswith("_core"):
            shutil.copy(f.resolve(), pkg / f.name)
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    code = ("import glamm_eval\nfrom glamm_eval.caption import Meteor, Bleu\n"
            "print(Bleu().compute_score({1: ['a b']}, {1: ['a b']}, verbose=0)[0][0] > 0.99)\n"
            "try:\n    m = Meteor()\n    print('found', m.source)\n"
            "except glamm_eval.InputError as e:\n    print('InputError:', e)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "True"
    if lines[1].startswith("found") and "pycocoevalcap" in lines[1]:
        pytest.skip("an installed pycocoevalcap provides METEOR's jar on this machine")
    assert lines[1].startswith("InputError: METEOR resources not found"), lines[1]
    assert "resources=DIR_OR_JAR" in lines[1] and "GLAMM_METEOR_RESOURCES" in lines[1]


# --------------------------------------------------------------------------------------------------- SPICE-style

def test_spice_style_shapes_and_types():
    s = SpiceStyle()
    score, scores = s.compute_score(GTS, RES)
    assert type(score) is np.float64 and 0.0 < score < 1.0
    assert type(scores) is list and len(scores) == 3
    categories = ["All", "Object", "Attribute", "Relation", "Cardinality", "Color", "Size"]
    for per in scores:
        assert list(per) == categories
        for values in per.values():
            assert sorted(values) == sorted(["pr", "re", "f", "fn", "numImages", "fp", "tp"])
            assert all(type(v) is float for v in values.values())
    assert score == sum(per["All"]["f"] for per in scores) / 3
    assert math.isnan(scores[0]["Cardinality"]["f"])  # no counted object in image 1's references
    assert s.method() == "SPICE-style" and s.details["counts"]["distinct_captions"] == 10


# --------------------------------------------------------------------------------------------------- COCOEvalCap

EXPECTED_LINES = ["tokenization...", "setting up scorers...", "computing Bleu score...",
                  "{'testlen': 16, 'reflen': 18, 'guess': [16, 13, 10, 7], 'correct': [15, 7, 2, 0]}",
                  "ratio: 0.8888888888395061", "Bleu_1: 0.827", "Bleu_2: 0.627", "Bleu_3: 0.411", "Bleu_4: 0.000",
                  "computing METEOR score...", None, "computing Rouge score...", "ROUGE_L: 0.637",
                  "computing CIDEr score...", "CIDEr: 1.471"]


def test_cocoevalcap_eval_imgtoeval_and_printed_output(capsys):
    gt, res = coco_pair()
    ev = COCOEvalCap(gt, res)
    assert ev.params == {"image_id": [1, 2, 3]} and ev.eval == {} and ev.evalImgs == []
    ev.params["image_id"] = res.getImgIds()
    capsys.readouterr()
    ev.evaluate()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(EXPECTED_LINES)
    for got, want in zip(lines, EXPECTED_LINES):
        if want is not None:
            assert got == want
    assert lines[10].startswith("METEOR: 0.")
    assert list(ev.eval) == ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"]
    assert [ev.eval[f"Bleu_{k + 1}"] for k in range(4)] == BLEU
    assert ev.eval["ROUGE_L"] == ROUGE and type(ev.eval["ROUGE_L"]) is np.float64
    assert ev.eval["CIDEr"] == pytest.approx(CIDER, rel=1e-14) and type(ev.eval["CIDEr"]) is np.float64
    assert type(ev.eval["METEOR"]) is float
    assert list(ev.imgToEval) == [1, 2, 3]
    assert ev.imgToEval[2]["image_id"] == 2 and ev.imgToEval[2]["Bleu_3"] == BLEU_PER_IMAGE[2][1]
    assert ev.imgToEval[3]["ROUGE_L"] == ROUGE_PER_IMAGE[2]
    assert ev.evalImgs == list(ev.imgToEval.values())
    assert list(ev.evalImgs[0]) == ["image_id", "Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"]
    assert "SPICE" not in ev.eval and "SPICE-style" not in ev.eval


def test_cocoevalcap_spice_style_key(capsys):
    gt, res = coco_pair()
    ev = COCOEvalCap(gt, res, spice="style")
    ev.evaluate()
    out = capsys.readouterr().out
    assert "computing SPICE-style score...\nSPICE-style: 0." in out
    assert list(ev.eval)[-1] == "SPICE-style" and "SPICE" not in ev.eval
    assert type(ev.eval["SPICE-style"]) is np.float64
    assert set(ev.imgToEval[1]["SPICE-style"]) >= {"All", "Object"}
    assert ev.eval["SPICE-style"] == np.mean([e["SPICE-style"]["All"]["f"] for e in ev.evalImgs])


def test_cocoevalcap_duck_typed_coco_objects():
    class Stub:
        def __init__(self, img_to_anns):
            self.imgToAnns = img_to_anns

        def getImgIds(self):
            return list(self.imgToAnns)

    ev = COCOEvalCap(Stub(as_anns(RAW_GTS)), Stub(as_anns(RAW_RES)), threads=2)
    ev.evaluate()
    assert [ev.eval[f"Bleu_{k + 1}"] for k in range(4)] == BLEU
    assert ev.imgToEval["img3"]["CIDEr"] == pytest.approx(CIDER_PER_IMAGE[2], rel=1e-14)


def test_cocoevalcap_image_without_result_is_an_error():
    gt, res = coco_pair(raw_res={1: RAW_RES[1], 2: RAW_RES[2]})
    ev = COCOEvalCap(gt, res)  # params['image_id'] = every GT image, image 3 has no result
    with pytest.raises(ValueError, match="only in gts: 3"):
        ev.evaluate()


def test_spice_style_and_scores_equal_the_cli(cli, tmp_path):
    """The same small files through `glamm-eval captions --spice` and through COCOEvalCap: equal numbers."""
    gt, res = coco_pair()
    gt_file, res_file = tmp_path / "gt.json", tmp_path / "res.json"
    gt_file.write_text(json.dumps(gt.dataset))
    res_file.write_text(json.dumps([{"image_id": a["image_id"], "caption": a["caption"]}
                                    for a in res.dataset["annotations"]]))
    record = cli("captions", "--gt", gt_file, "--res", res_file, "--spice", "--meteor-paraphrase", "-")
    ev = COCOEvalCap(COCO(str(gt_file)), COCO(str(gt_file)).loadRes(str(res_file)), spice="style",
                     meteor_paraphrase="-")
    ev.evaluate()
    assert record["metrics"].pop("SPICE-style (Link Grammar parser)") == ev.eval.pop("SPICE-style")
    assert record["metrics"] == ev.eval
    for sample, per in zip(record["per_sample"], ev.evalImgs):
        assert sample["image_id"] == per["image_id"]
        assert sample["CIDEr"] == per["CIDEr"] and sample["METEOR"] == per["METEOR"]
        assert sample["SPICE-style (Link Grammar parser)"] == per["SPICE-style"]["All"]["f"]
