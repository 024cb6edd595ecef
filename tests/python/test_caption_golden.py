"""glamm_eval.caption on the COCO val2017 leave-one-out golden (golden/captions/coco_val2017_loo_*: 5000 images,
pycocoevalcap's numbers with METEOR's paraphrase module off): COCOEvalCap, the per-scorer compute_score calls and
the pycocoevalcap-style usage script give the numbers of `glamm-eval captions` on the same files bit for bit, and
the golden values the C++ golden tests check (tests/metrics/caption/pipeline_golden.cpp)."""

import csv
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from glamm_eval.caption import COCOEvalCap, Bleu, Cider, Meteor, PTBTokenizer, Rouge
from glamm_eval.coco import COCO

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "python" / "examples"
NAMES = ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"]


@pytest.fixture(scope="module")
def loo(shared):
    d = shared / "golden" / "captions"
    meteor = shared / "data" / "meteor"
    for p in (d / "coco_val2017_loo_gt.json", d / "coco_val2017_loo_results.json", meteor / "english.synsets"):
        if not p.exists():
            pytest.fail(f"missing golden file {p}")
    expected = json.loads((d / "coco_val2017_loo_expected.json").read_text())
    with open(d / "coco_val2017_loo_per_image.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {"gt": d / "coco_val2017_loo_gt.json", "res": d / "coco_val2017_loo_results.json", "meteor": meteor,
            "expected": expected, "rows": rows}


@pytest.fixture(scope="module")
def record(loo, glamm_eval_binary, tmp_path_factory):
    """The CLI's record on the golden files (METEOR resources of the golden, paraphrase off, as the C++ test)."""
    out = tmp_path_factory.mktemp("captions") / "record.json"
    cmd = [glamm_eval_binary, "captions", "--gt", str(loo["gt"]), "--res", str(loo["res"]),
           "--meteor-resources", str(loo["meteor"]), "--meteor-paraphrase", "-", "--json", str(out), "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def bleu_line(info):
    return (f"{{'testlen': {info['testlen']}, 'reflen': {info['reflen']}, 'guess': {info['guess']}, "
            f"'correct': {info['correct']}}}")


def test_record_equals_golden(loo, record):
    # the CLI record this file compares with is itself the golden (what the C++ golden test checks)
    assert record["metrics"] == loo["expected"]["corpus"]
    info = record["details"]["bleu_info"]
    assert {k: info[k] for k in ("testlen", "reflen", "guess", "correct")} == loo["expected"]["bleu_info"]


def test_cocoevalcap_equals_cli_and_golden(loo, record, capsys):
    coco = COCO(str(loo["gt"]))
    coco_res = coco.loadRes(str(loo["res"]))
    ev = COCOEvalCap(coco, coco_res, meteor_resources=loo["meteor"], meteor_paraphrase="-")
    ev.params["image_id"] = coco_res.getImgIds()
    capsys.readouterr()
    ev.evaluate()
    out = capsys.readouterr().out.splitlines()
    expected = loo["expected"]
    assert out[:5] == ["tokenization...", "setting up scorers...", "computing Bleu score...",
                       bleu_line(expected["bleu_info"]), f"ratio: {record['details']['bleu_info']['ratio']!r}"]
    assert out[5:9] == [f"Bleu_{k}: {expected['corpus'][f'Bleu_{k}']:0.3f}" for k in range(1, 5)]
    assert out[-1] == "CIDEr: 0.887" and "Bleu_1: 0.634" in out
    # corpus values: bit-identical to the CLI's record and to the golden
    assert list(ev.eval) == NAMES
    assert {k: float(v) for k, v in ev.eval.items()} == record["metrics"] == expected["corpus"]
    assert type(ev.eval["ROUGE_L"]) is np.float64 and type(ev.eval["Bleu_1"]) is float
    # every image: the CLI's per-sample values and the golden per-image table, exactly, in GT image order
    assert len(ev.evalImgs) == len(record["per_sample"]) == len(loo["rows"]) == expected["num_images"] == 5000
    for per, sample, row in zip(ev.evalImgs, record["per_sample"], loo["rows"]):
        assert per["image_id"] == sample["image_id"] == int(row["image_id"])
        for name in NAMES:
            assert float(per[name]) == sample[name] == float(row[name]), (per["image_id"], name)
    assert ev.imgToEval[397133] is ev.evalImgs[0]


def test_per_scorer_compute_score_equals_cli(loo, record, capsys):
    coco = COCO(str(loo["gt"]))
    coco_res = coco.loadRes(str(loo["res"]))
    gts, res = {}, {}
    for img_id in coco_res.getImgIds():
        gts[img_id] = coco.imgToAnns[img_id]
        res[img_id] = coco_res.imgToAnns[img_id]
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize(gts)
    res = tokenizer.tokenize(res)
    # the tokenized candidates are the golden's (and the record's)
    assert [res[int(row["image_id"])][0] for row in loo["rows"]] == \
        [row["candidate_tokenized"] or "" for row in loo["rows"]] == \
        [s["caption_tokenized"] for s in record["per_sample"]]
    samples = record["per_sample"]
    metrics = record["metrics"]

    capsys.readouterr()
    score, scores = Bleu(4).compute_score(gts, res)
    assert capsys.readouterr().out.splitlines()[0] == bleu_line(loo["expected"]["bleu_info"])
    assert score == [metrics[f"Bleu_{k}"] for k in range(1, 5)]
    assert scores == [[s[f"Bleu_{k}"] for s in samples] for k in range(1, 5)]

    score, scores = Meteor(resources=loo["meteor"], paraphrase="-").compute_score(gts, res)
    assert type(score) is float and score == metrics["METEOR"]
    assert scores == [s["METEOR"] for s in samples]

    for scorer, name in ((Rouge(), "ROUGE_L"), (Cider(threads=1), "CIDEr")):
        score, scores = scorer.compute_score(gts, res)
        assert type(score) is np.float64 and score == metrics[name]
        assert scores.dtype == np.float64 and scores.shape == (5000,)
        assert scores.tolist() == [s[name] for s in samples]


def test_usage_script_prints_the_cli_numbers(loo, record):
    env = dict(os.environ, GLAMM_METEOR_RESOURCES=str(loo["meteor"]), GLAMM_METEOR_PARAPHRASE="-")
    proc = subprocess.run([sys.executable, str(EXAMPLES / "pycocoevalcap_usage.py"), str(loo["gt"]),
                           str(loo["res"])], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    metrics = record["metrics"]
    # the example's own printout
    for name in NAMES:
        assert f"{name}: {metrics[name]:.3f}" in lines
    evals = {m.group(1): float(m.group(2)) for m in (re.fullmatch(r"eval (\S+) (\S+)", l) for l in lines) if m}
    assert evals == metrics
    scorers = {m.group(1): float(m.group(2)) for m in
               (re.fullmatch(r"scorer (\S+) (\S+) images 5000", l) for l in lines) if m}
    assert scorers == metrics
    images = [l.split() for l in lines if l.startswith("image ")]
    assert len(images) == 5000
    for fields, sample in zip(images, record["per_sample"]):
        assert int(fields[1]) == sample["image_id"]
        values = dict(f.split("=") for f in fields[2:])
        assert {k: float(v) for k, v in values.items()} == {k: sample[k] for k in NAMES}


def test_spice_style_on_the_first_100_images_equals_cli(loo, cli, tmp_path):
    """SPICE-style through COCOEvalCap(spice="style") and `glamm-eval captions --spice` on the first 100 images of
    the leave-one-out set: the same corpus value and per-image "All" F."""
    gt = json.loads(loo["gt"].read_text())
    keep = [im["id"] for im in gt["images"][:100]]
    subset = {"images": gt["images"][:100], "annotations": [a for a in gt["annotations"] if a["image_id"] in keep]}
    results = [r for r in json.loads(loo["res"].read_text()) if r["image_id"] in keep]
    gt_file, res_file = tmp_path / "gt.json", tmp_path / "res.json"
    gt_file.write_text(json.dumps(subset))
    res_file.write_text(json.dumps(results))
    rec = cli("captions", "--gt", gt_file, "--res", res_file, "--spice", "--meteor-resources", loo["meteor"],
              "--meteor-paraphrase", "-")
    coco = COCO(str(gt_file))
    coco_res = coco.loadRes(str(res_file))
    ev = COCOEvalCap(coco, coco_res, spice="style", meteor_resources=loo["meteor"], meteor_paraphrase="-")
    ev.params["image_id"] = coco_res.getImgIds()
    ev.evaluate()
    name = "SPICE-style (Link Grammar parser)"
    assert 0.0 < ev.eval["SPICE-style"] < 1.0
    assert ev.eval["SPICE-style"] == rec["metrics"][name]
    assert {k: float(v) for k, v in ev.eval.items() if k != "SPICE-style"} == \
        {k: v for k, v in rec["metrics"].items() if k != name}
    assert [e["SPICE-style"]["All"]["f"] for e in ev.evalImgs] == [s[name] for s in rec["per_sample"]]
