"""glamm_eval.tasks on the golden data: the same records as the CLI's --json, number for number (the whole metrics,
details and per-sample sections; only the timestamp differs), and the official evaluations' values.

* GCG: golden/gcg (val and test, with the text-similarity tables), against expected_<split>.json as
  tests/support/gcg_expected.h checks the C++ records;
* refseg: the refer_seg vector (golden/masks/vectors/refer_seg.json) written as REFER files, as
  tests/eval/refseg/refseg_golden.cpp does;
* regcap / imagecap: the COCO val2017 leave-one-out caption golden (golden/captions) in the region-caption and the
  Karpathy layouts, as tests/eval/tasks/caption_tasks_golden.cpp builds them.
"""

import json
import pickle

import numpy as np
import pytest

from glamm_eval import mask as maskUtils
from glamm_eval import tasks

TOL = 1e-12


def same_record(a, b):
    """Two records equal key for key and number for number, except their timestamps."""
    a, b = dict(a), dict(b)
    a.pop("timestamp"), b.pop("timestamp")
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k] == b[k], k


@pytest.fixture(scope="module")
def meteor(shared):
    return shared / "data" / "meteor"


# ---- GCG ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("split", ["val", "test"])
def test_gcg_golden_equals_cli_and_official(shared, meteor, cli, split):
    g = shared / "golden" / "gcg"
    py = tasks.gcg(split=split, gt_dir=g, pred=g / f"predictions_{split}", text_sim=g / f"{split}_text_similarity.tsv",
                   meteor_resources=meteor, threads=2, quiet=True)
    rec = cli("gcg", "--split", split, "--gt-dir", g, "--pred", g / f"predictions_{split}", "--text-sim",
              g / f"{split}_text_similarity.tsv", "--meteor-resources", meteor, "--threads", 2)
    same_record(py, rec)
    assert len(py["per_sample"]) == 50

    with open(g / f"expected_{split}.json") as f:
        exp = json.load(f)
    assert py["details"]["coco_stats"] == pytest.approx(exp["ap"]["stats"], abs=TOL)
    assert py["metrics"]["AP"] == pytest.approx(exp["ap"]["AP"], abs=TOL)
    assert py["metrics"]["AP50"] == pytest.approx(exp["ap"]["AP50"], abs=TOL)
    assert py["details"]["num_pred_masks"] == exp["ap"]["num_predictions"]
    assert py["details"]["num_gt_masks"] == exp["ap"]["num_gt_masks"]
    for name, value in exp["captions"]["corpus"].items():
        assert py["metrics"][name] == pytest.approx(value, abs=TOL), name
    for k in ("testlen", "reflen", "guess", "correct"):
        assert py["details"]["bleu_info"][k] == exp["captions"]["bleu_info"][k], k
    assert py["metrics"]["mIoU"] == pytest.approx(exp["miou"]["miou"], abs=TOL)
    assert py["metrics"]["Recall"] == pytest.approx(exp["recall"]["recall"], abs=TOL)
    assert py["details"]["recall_true_positives"] == exp["recall"]["true_positives"]
    assert py["details"]["recall_actual_positives"] == exp["recall"]["actual_positives"]
    for sample, em in zip(py["per_sample"], exp["miou"]["per_image"]):
        assert sample["image_id"] == em["image_id"]
        assert sample["miou"] == pytest.approx(em["miou"], abs=TOL)
        assert sample["miou_pairs"] == pytest.approx(em["pairs"], abs=TOL)


def test_gcg_golden_strict_equals_cli(shared, meteor, cli):
    g = shared / "golden" / "gcg"
    py = tasks.gcg(gt_dir=g, pred=g / "predictions_val", text_sim=g / "val_text_similarity.tsv",
                   meteor_resources=meteor, strict=True, quiet=True)
    rec = cli("gcg", "--gt-dir", g, "--pred", g / "predictions_val", "--text-sim", g / "val_text_similarity.tsv",
              "--meteor-resources", meteor, "--strict")
    same_record(py, rec)
    assert py["signature"]["strict"].startswith("on(")


# ---- refseg ---------------------------------------------------------------------------------------------------------

def rle_of(rows, gt_rows):
    """Compressed RLE of a 0/1 mask given as rows; pixels whose GT is the ignore label 255 are dropped (set 0)."""
    m = np.asfortranarray(np.array(rows, dtype=np.int64))
    g = np.array(gt_rows, dtype=np.int64)
    m = np.where(g == 255, 0, m).astype(np.uint8)
    r = maskUtils.encode(np.asfortranarray(m[:, :, None]))[0]
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": r["counts"].decode()}


def test_refseg_golden_vector_equals_cli_float32_and_strict(shared, cli, tmp_path):
    # Each vector sample is one image item (its targets = sentences of that image); the vector's GT ignore label 255
    # cannot occur in REFER masks: its pixels are dropped from prediction and GT, which keeps every per-target
    # intersection and union (the only inputs of the metric).
    with open(shared / "golden" / "masks" / "vectors" / "refer_seg.json") as f:
        v = json.load(f)
    refs, images, anns, preds = [], [], [], []
    next_id = 1
    for image, s in enumerate(v["input"]["samples"], start=1):
        g0 = s["gts"][0]
        images.append({"id": image, "file_name": "x.jpg", "height": len(g0), "width": len(g0[0])})
        for t in range(len(s["gts"])):
            i = next_id
            next_id += 1
            anns.append({"id": i, "image_id": image, "segmentation": [rle_of(s["gts"][t], s["gts"][t])]})
            refs.append({"ref_id": i, "ann_id": i, "image_id": image, "split": "val",
                         "sentences": [{"sent_id": i, "sent": f"object {i}"}]})
            preds.append(json.dumps({"sent_id": i, "ref_id": i, "image_id": image,
                                     "mask": rle_of(s["preds"][t], s["gts"][t])}))
    d = tmp_path / "data" / "Refer_Segm" / "refcoco"
    d.mkdir(parents=True)
    with open(d / "refs(unc).p", "wb") as f:
        pickle.dump(refs, f, protocol=2)
    (d / "instances.json").write_text(json.dumps({"images": images, "annotations": anns}))
    pred = tmp_path / "pred.jsonl"
    pred.write_text("\n".join(preds) + "\n")

    f32 = v["expected"]["glamm_float32"]
    for strict in (False, True):
        py = tasks.refseg(dataset="refcoco", split="val", data_root=tmp_path / "data", pred=pred, strict=strict,
                          quiet=True)
        rec = cli("refseg", "--dataset", "refcoco", "--split", "val", "--data-root", tmp_path / "data", "--pred", pred,
                  *(["--strict"] if strict else []))
        same_record(py, rec)
        assert len(py["per_sample"]) == f32["n_targets"]
        if not strict:
            assert py["details"]["intersection_sum"] == f32["inter_fg"]
            assert py["details"]["union_sum"] == f32["union_fg"]
            assert np.float32(py["metrics"]["gIoU"]) == np.float32(f32["giou"])
            assert np.float32(py["metrics"]["cIoU"]) == np.float32(f32["ciou"])
            assert py["details"]["giou_str"] == f32["giou_str"]
            assert py["details"]["ciou_str"] == f32["ciou_str"]
        else:
            assert py["metrics"]["gIoU"] == pytest.approx(v["expected"]["strict"]["giou"], abs=1e-15)
            assert py["metrics"]["cIoU"] == pytest.approx(v["expected"]["strict"]["ciou"], abs=1e-15)


# ---- regcap / imagecap on the caption golden ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def loo(shared):
    c = shared / "golden" / "captions"
    with open(c / "coco_val2017_loo_gt.json") as f:
        gt = json.load(f)
    with open(c / "coco_val2017_loo_expected.json") as f:
        exp = json.load(f)
    return gt, c / "coco_val2017_loo_results.json", exp


def test_regcap_golden_regions_equal_cli(loo, meteor, cli, tmp_path):
    # one region per image entry, its box paired by id, the image's first caption as the only reference
    gt, res, _ = loo
    first = {}
    for a in gt["annotations"]:
        first.setdefault(a["image_id"], a["caption"])
    images = [{"id": im["id"], "file_name": f"{im['id']}.jpg", "height": 100, "width": 100} for im in gt["images"]]
    anns = [{"id": im["id"], "image_id": im["id"], "bbox": [1.0, 2.0, 30.0, 40.0], "area": 1200.0,
             "caption": first[im["id"]]} for im in gt["images"]]
    ann = tmp_path / "test_caption.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns}))
    py = tasks.regcap(dataset="vg", annotations=ann, pred=res, meteor_resources=meteor, threads=2, quiet=True)
    rec = cli("regcap", "--dataset", "vg", "--annotations", ann, "--pred", res, "--meteor-resources", meteor,
              "--threads", 2)
    same_record(py, rec)
    assert len(py["per_sample"]) == 5000
    assert py["details"]["regions_layout"] == "one region per image entry"
    assert py["metric_order"] == ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"]
    assert all(s["predicted"] for s in py["per_sample"])


def flickr_layout(gt, tmp_path, limit=None):
    """The GT in the Karpathy layout (split "test", sentences[].raw = the captions in file order) plus one training
    image that is never scored; `limit` keeps the first images only."""
    sentences = {}
    for a in gt["annotations"]:
        sentences.setdefault(a["image_id"], []).append({"raw": a["caption"]})
    images = []
    for im in gt["images"][:limit]:
        images.append({"filename": f"{im['id']}.jpg", "imgid": len(images), "split": "test",
                       "sentences": sentences[im["id"]]})
    images.append({"filename": "9.jpg", "imgid": len(images), "split": "train", "sentences": [{"raw": "a train image"}]})
    path = tmp_path / "dataset_flickr30k.json"
    path.write_text(json.dumps({"dataset": "flickr30k", "images": images}))
    return path


def test_imagecap_golden_flickr_layout_equals_cli_and_pycocoevalcap(loo, meteor, cli, tmp_path):
    gt, res, exp = loo
    ann = flickr_layout(gt, tmp_path)
    py = tasks.imagecap(dataset="flickr30k", annotations=ann, pred=res, no_spice=True, meteor_resources=meteor,
                        threads=2, quiet=True, label="golden")
    rec = cli("imagecap", "--dataset", "flickr30k", "--annotations", ann, "--pred", res, "--no-spice",
              "--meteor-resources", meteor, "--threads", 2, "--label", "golden")
    same_record(py, rec)
    for name, value in exp["corpus"].items():
        assert py["metrics"][name] == pytest.approx(value, abs=1e-12), name
    for k in ("testlen", "reflen", "guess", "correct"):
        assert py["details"]["bleu_info"][k] == exp["bleu_info"][k], k
    assert py["details"]["images_per_split"]["train"] == 1
    assert len(py["per_sample"]) == 5000
    assert py["signature"]["spice"] == "off(--no-spice)"


def test_imagecap_golden_spice_style_subset_equals_cli(loo, meteor, cli, tmp_path):
    # SPICE-style parses every caption (~3-5 ms each): 40 images, with and without the line-break strict mode.
    gt, res, _ = loo
    ann = flickr_layout(gt, tmp_path, limit=40)
    ids = {im["id"] for im in gt["images"][:40]}
    with open(res) as f:
        sub = [p for p in json.load(f) if p["image_id"] in ids]
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps(sub))
    py = tasks.imagecap(dataset="flickr30k", annotations=ann, pred=pred, meteor_resources=meteor, threads=2,
                        quiet=True)
    rec = cli("imagecap", "--dataset", "flickr30k", "--annotations", ann, "--pred", pred, "--meteor-resources",
              meteor, "--threads", 2)
    same_record(py, rec)
    assert "SPICE-style (Link Grammar parser)" in py["metrics"]
    assert "SPICE" not in py["metrics"]
    assert len(py["per_sample"]) == 40
