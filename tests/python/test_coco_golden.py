"""glamm_eval.coco against the golden COCO data (pycocotools 2.0.6 values) and against the glamm-eval CLI."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from glamm_eval.coco import COCO, COCOeval

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "python" / "examples"
CASES = ["area_boundaries", "basic", "borders_odd_size", "crowd_gt", "duplicates", "empty_predictions",
         "glamm_recall", "gt_id_zero", "maxdets_two_cats", "no_gt_image", "polygons", "score_ties_a",
         "score_ties_b"]


def coco2014(shared):
    return shared / "data" / "coco2014_100"


def evaluate(gt, results, iou_type, params=None):
    ev = COCOeval(gt, gt.loadRes(results), iou_type)
    for k, v in (params or {}).items():
        setattr(ev.params, k, v)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_coco2014_100_equals_golden_and_cli(shared, cli, iou_type):
    data = coco2014(shared)
    expected = json.loads((shared / "golden" / "masks" / "coco2014_100_expected.json").read_text())
    gt_file = data / "instances_val2014_100.json"
    res_file = data / f"instances_val2014_fake{iou_type}100_results.json"
    ev = evaluate(COCO(str(gt_file)), str(res_file), iou_type)
    assert ev.stats.tolist() == expected[iou_type]["stats"]
    record = cli("coco", "--gt", gt_file, "--dt", res_file, "--iou-type", iou_type)
    assert ev.stats.tolist() == record["details"]["stats"]
    # IoU matrices of the golden images (rows: detections by score, columns: GT in file order)
    matrices = expected[iou_type].get("iou_matrices", [])
    assert matrices or iou_type == "bbox"
    for m in matrices:
        got = ev.ious[(m["image_id"], m["category_id"])]
        assert (np.asarray(got).tolist() if len(got) else []) == m["ious"], (m["image_id"], m["category_id"])
        e = ev.evalImgs[(ev.params.catIds.index(m["category_id"]) * 4) * 100 + ev.params.imgIds.index(m["image_id"])]
        assert e["dtIds"] == m["dt_ids"] and e["dtScores"] == m["dt_scores"]


@pytest.mark.parametrize("case", CASES)
def test_golden_vectors(shared, case):
    c = json.loads((shared / "golden" / "masks" / "vectors" / f"{case}.json").read_text())
    exp = c["expected"]["cocoeval"]
    gt = COCO()
    gt.dataset = c["input"]["gt"]
    gt.createIndex()
    ev = evaluate(gt, c["input"]["dt"], "segm", c["input"].get("params"))
    tol = 1e-12  # the golden data's tolerance (its README); our values equal pycocotools' exactly here
    assert np.allclose(ev.stats, exp["stats"], rtol=0, atol=tol)
    assert np.allclose(ev.eval["recall"], np.array(exp["recall"]), rtol=0, atol=tol)
    for key, t in (("precision_iou50_all_100", 0), ("precision_iou75_all_100", 5)):
        got = ev.eval["precision"][t, :, :, 0, -1].T  # [K][101]
        assert np.allclose(got, np.array(exp[key]), rtol=0, atol=tol), key
    dt = ev.cocoDt
    assert [dt.anns[i]["area"] for i in sorted(dt.anns)] == exp["loadRes_areas"]
    assert [np.asarray(dt.anns[i]["bbox"]).tolist() for i in sorted(dt.anns)] == exp["loadRes_bboxes"]
    for key, want in exp["ious"].items():
        img, cat = (int(x) for x in key.split(","))
        got = ev.ious[(img, cat)]
        assert np.allclose(np.asarray(got, dtype=float).reshape(np.array(want, dtype=float).shape), want,
                           rtol=0, atol=tol), key
    if "evalImgs_area_all" not in exp:
        return
    a_all = 0
    n_img = len(ev.params.imgIds)
    cats = ev.params.catIds if ev.params.useCats else [-1]
    got_all = [e for k in range(len(cats)) for e in ev.evalImgs[k * 4 * n_img:(k * 4 + a_all + 1) * n_img]
               if e is not None]
    assert len(got_all) == len(exp["evalImgs_area_all"])
    for got, want in zip(got_all, exp["evalImgs_area_all"]):
        assert got["image_id"] == want["image_id"] and got["category_id"] == want["category_id"]
        assert got["dtIds"] == want["dtIds"] and got["gtIds"] == want["gtIds"]
        assert got["dtMatches"].tolist() == want["dtMatches"] and got["gtMatches"].tolist() == want["gtMatches"]
        assert got["dtIgnore"].astype(int).tolist() == want["dtIgnore"]
        assert got["gtIgnore"].astype(int).tolist() == want["gtIgnore"]


@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_usage_script_prints_the_cli_numbers(shared, cli, iou_type):
    data = coco2014(shared)
    gt_file = data / "instances_val2014_100.json"
    res_file = data / f"instances_val2014_fake{iou_type}100_results.json"
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, str(EXAMPLES / "pycocotools_usage.py"), str(gt_file), str(res_file),
                           iou_type], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    record = cli("coco", "--gt", gt_file, "--dt", res_file, "--iou-type", iou_type)
    stats_line = [line for line in proc.stdout.splitlines() if line.startswith("stats ")][0]
    assert [float(x) for x in stats_line.split()[1:]] == record["details"]["stats"]
    cli_lines = subprocess.run([os.environ["GLAMM_EVAL_BINARY"], "coco", "--gt", str(gt_file), "--dt",
                                str(res_file), "--iou-type", iou_type], capture_output=True, text=True).stdout
    summary = [line for line in proc.stdout.splitlines() if line.startswith(" Average")]
    assert len(summary) == 12 and summary == [line for line in cli_lines.splitlines() if line.startswith(" Average")]
