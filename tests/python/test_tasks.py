"""glamm_eval.tasks on small fixtures written here (the Python twins of tests/eval/tasks/*_test.cpp and the
fixtures of tests/support): values derived by hand, errors as InputError naming file and record, the strict flag in
the signature, coverage guards, the json= record file, and the same record as the CLI's --json on each fixture."""

import json
import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

import glamm_eval
from glamm_eval import mask as maskUtils
from glamm_eval import tasks

H, W = 6, 8


def rect(x0, y0, x1, y1, h=H, w=W):
    """Compressed RLE (counts as str) of rows [y0, y1) x columns [x0, x1) on an h x w image."""
    m = np.zeros((h, w, 1), dtype=np.uint8, order="F")
    m[y0:y1, x0:x1, 0] = 1
    r = maskUtils.encode(m)[0]
    return {"size": [h, w], "counts": r["counts"].decode()}


def same_record(a, b):
    """Two records equal except their timestamps."""
    a, b = dict(a), dict(b)
    a.pop("timestamp"), b.pop("timestamp")
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k


# The package's METEOR resources, named explicitly when a record is compared with the CLI's: by default each finds
# its own copy (the package's glamm_eval/share, the CLI's share next to the binary), and the record names the
# folder it read (signature.meteor_resources; the checksum is the same).
METEOR = os.path.join(os.path.dirname(glamm_eval._core.__file__), "share", "glamm-eval", "meteor")


def write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


# ---- gcg: tests/support/grandf_fixture.h three_folder_fixture ----------------------------------------------------

def three_folder_fixture(d):
    """Three images, one per predictions folder (pred1..pred3); every prediction matches its GT except the bench of
    img_b (IoU 6/9). Returns the fixture folder (val split) with sim.tsv."""
    images = [
        ("img_b", "A kite flies above a bench.", ["a kite", "a bench"], [rect(1, 1, 4, 3), rect(4, 2, 7, 5)],
         {"image_id": "img_b", "caption": "A kite above a bench.", "phrases": ["kite", "bench"],
          "pred_masks": [rect(1, 1, 4, 3), rect(4, 2, 7, 4)]}, "pred1"),
        ("img_a", "The dog sits.", ["the dog"], [rect(0, 3, 4, 6)],
         {"image_id": "img_a", "caption": "A dog.", "phrases": ["dog"], "pred_masks": [rect(0, 3, 4, 6)]}, "pred2"),
        ("img_c", "A cat on a mat.", ["a cat"], [rect(2, 0, 6, 2)],
         {"image_id": "img_c", "caption": "A cat.", "phrases": ["cat"], "pred_masks": [rect(2, 0, 6, 2)]}, "pred3"),
    ]
    cap_imgs, cap_anns, mask_imgs, mask_anns = [], [], [], []
    for i, (iid, caption, labels, masks, pred, folder) in enumerate(images):
        cap_imgs.append({"id": iid, "height": H, "width": W})
        cap_anns.append({"id": i + 1, "image_id": iid, "caption": caption, "labels": labels})
        mask_imgs.append({"id": iid, "height": H, "width": W, "file_name": iid + ".jpg"})
        for m in masks:
            mask_anns.append({"id": len(mask_anns) + 1, "image_id": iid, "category_id": 1, "iscrowd": 0, "area": 1,
                              "segmentation": m})
        write_json(d / folder / f"{iid}.json", pred)
    write_json(d / "val_gcg_coco_caption_gt.json", {"images": cap_imgs, "annotations": cap_anns})
    write_json(d / "val_gcg_coco_mask_gt.json", {"images": mask_imgs, "categories": [{"id": 1, "name": "object"}],
                                                 "annotations": mask_anns})
    (d / "sim.tsv").write_text("gt_label\tpred_label\tsimilarity\n"
                               "a kite\tkite\t0.9\na bench\tbench\t0.8\na kite\tbench\t0.1\na bench\tkite\t0.2\n"
                               "the dog\tdog\t0.95\na cat\tcat\t0.9\n")
    return d


@pytest.fixture
def grandf(tmp_path):
    return three_folder_fixture(tmp_path / "grandf")


def gcg_args(d):
    return dict(gt_dir=d, pred=[d / "pred1", d / "pred2", d / "pred3"], text_sim=d / "sim.tsv", quiet=True)


def test_gcg_three_folders_values_and_record(grandf):
    r = tasks.gcg(**gcg_args(grandf), threads=2)
    assert r["task"] == "gcg"
    assert r["label"] == "pred1"  # the first predictions folder's name
    assert r["metrics"]["mIoU"] == pytest.approx(((1.0 + 6.0 / 9.0) / 2 + 1.0 + 1.0) / 3, rel=1e-15)
    assert r["metrics"]["Recall"] == 1.0
    assert r["metric_order"][:5] == ["METEOR", "CIDEr", "AP50", "mIoU", "Recall"]
    assert r["inputs"]["predictions_2"] == str(grandf / "pred3")
    assert len(r["per_sample"]) == 3
    assert r["per_sample"][2]["prediction_file"] == str(grandf / "pred3" / "img_c.json")
    assert r["signature"]["strict"] == "off"


def test_gcg_equals_cli_record(grandf, cli):
    d = grandf
    py = tasks.gcg(**gcg_args(d), label="fixture", meteor_resources=METEOR)
    rec = cli("gcg", "--gt-dir", d, "--pred", d / "pred1", "--pred", d / "pred2", "--pred", d / "pred3",
              "--text-sim", d / "sim.tsv", "--label", "fixture", "--meteor-resources", METEOR)
    same_record(py, rec)


def test_gcg_strict_changes_the_signature(grandf):
    off = tasks.gcg(**gcg_args(grandf))
    on = tasks.gcg(**gcg_args(grandf), strict=True)
    assert off["signature"]["strict"] == "off"
    assert on["signature"]["strict"].startswith("on(")
    assert on["signature_string"] != off["signature_string"]


def test_gcg_bad_mask_names_the_file_in_the_third_folder(grandf):
    bad = grandf / "pred3" / "img_c.json"
    p = json.loads(bad.read_text())
    p["pred_masks"] = [{"size": [6, 8], "counts": "12"}]  # covers too few pixels
    bad.write_text(json.dumps(p))
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.gcg(**gcg_args(grandf), threads=4)
    assert isinstance(e.value, ValueError)
    assert e.value.file == str(bad)
    assert e.value.record == "pred_masks[0]"


def test_gcg_missing_prediction_needs_allow_missing(grandf):
    os.remove(grandf / "pred2" / "img_a.json")
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.gcg(**gcg_args(grandf))
    assert "img_a" in str(e.value)
    r = tasks.gcg(**gcg_args(grandf), allow_missing=True)
    assert r["metrics"]["mIoU"] == pytest.approx(((1.0 + 6.0 / 9.0) / 2 + 0.0 + 1.0) / 3, rel=1e-15)
    assert r["warnings"][0] == "1 missing prediction file(s) scored as empty predictions (--allow-missing)"


def test_gcg_phrase_similarity_choices(grandf, monkeypatch):
    monkeypatch.delenv("GLAMM_BERT", raising=False)
    args = gcg_args(grandf)
    del args["text_sim"]
    with pytest.raises(glamm_eval.InputError) as e:  # neither bert nor text_sim
        tasks.gcg(**args)
    assert e.value.record == "--bert" and "text-sim" in e.value.message
    with pytest.raises(glamm_eval.InputError) as e:  # both
        tasks.gcg(**args, bert=grandf, text_sim=grandf / "sim.tsv")
    assert "not both" in str(e.value)
    # BERT only when asked: a folder without BERT's files (or a build without the plugin) is a clear InputError
    with pytest.raises(glamm_eval.InputError):
        tasks.gcg(**args, bert=grandf)


def test_gcg_with_a_table_never_loads_bert(grandf):
    # in a fresh process (other tests here ask for BERT, which loads the plugin where it was built)
    script = ("import sys\nfrom glamm_eval import tasks\n"
              "r = tasks.gcg(gt_dir=sys.argv[1], pred=sys.argv[1] + '/pred1', text_sim=sys.argv[1] + '/sim.tsv', "
              "allow_missing=True, quiet=True)\n"
              "maps = open('/proc/self/maps').read()\n"
              "print(r['task'], 'libglamm_bert' in maps, 'libtorch' in maps)\n")
    proc = subprocess.run([sys.executable, "-c", script, str(grandf)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["gcg", "False", "False"]


def test_gcg_missing_meteor_resources_and_bad_split(grandf, tmp_path):
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.gcg(**gcg_args(grandf), meteor_resources=tmp_path / "no_such_folder")
    assert "no_such_folder" in str(e.value)
    with pytest.raises(glamm_eval.InputError):
        tasks.gcg(**gcg_args(grandf), split="train")
    with pytest.raises(glamm_eval.InputError):
        tasks.gcg(**gcg_args(grandf), threads=-1)


def test_gcg_json_writes_the_returned_record(grandf, tmp_path):
    out = tmp_path / "out" / "rec.json"
    r = tasks.gcg(**gcg_args(grandf), json=out)
    with open(out) as f:
        assert json.load(f) == r  # the same record, timestamp included
    with pytest.raises(glamm_eval.InputError) as e:  # never over an input
        tasks.gcg(**gcg_args(grandf), json=grandf / "pred1" / "img_b.json")
    assert e.value.record == "json"
    with pytest.raises(glamm_eval.InputError):
        tasks.gcg(**gcg_args(grandf), json=tmp_path)  # a folder


def test_gcg_builtin_sample_equals_cli(tmp_path, glamm_eval_binary):
    rec_path = tmp_path / "out" / "sample.json"
    py = tasks.gcg(sample=True, json=rec_path, meteor_resources=METEOR, quiet=True)
    assert (tmp_path / "out" / "sample.sample" / "val_gcg_coco_caption_gt.json").is_file()
    assert py["label"] == "builtin-sample"
    assert len(py["per_sample"]) == 6
    assert "synthetic" in py["signature"]["data"]
    # the CLI on the same record path rewrites the same sample folder: the same record
    subprocess.run([glamm_eval_binary, "gcg", "--sample", "--meteor-resources", METEOR, "--json", str(rec_path), "-q"],
                   check=True, capture_output=True)
    with open(rec_path) as f:
        same_record(py, json.load(f))
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.gcg(sample=True)
    assert e.value.record == "json"
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.gcg(sample=True, pred=tmp_path, json=rec_path)
    assert e.value.record == "sample"
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.gcg()
    assert e.value.record == "pred"


# ---- refseg: the dataset-formats §4.8 example of tests/datasets/refer_fixture.h -----------------------------------

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "datasets" / "data"  # shared with the C++ REFER tests
SPEC_REFS = json.loads((FIXTURES / "refer_spec_refs.json").read_text())
SPEC_INSTANCES = json.loads((FIXTURES / "refer_spec_instances.json").read_text())


def pred_line(sent_id, ref_id, counts):
    return json.dumps({"dataset": "refcoco", "split_by": "unc", "split": "testA", "sent_id": sent_id,
                       "ref_id": ref_id, "image_id": 42, "mask": {"size": [6, 8], "counts": counts}})


P7001, P7002, P7003 = pred_line(7001, 501, "724000g0"), pred_line(7002, 501, "=3300000;"), pred_line(7003, 502, "`1")


def write_refer(root, dataset, split_by, refs, instances):
    """<root>/Refer_Segm/<dataset>/{refs(<split_by>).p (protocol-2 pickle, as REFER's), instances.json}."""
    d = root / "Refer_Segm" / dataset
    d.mkdir(parents=True, exist_ok=True)
    with open(d / f"refs({split_by}).p", "wb") as f:
        pickle.dump(refs, f, protocol=2)
    (d / "instances.json").write_text(json.dumps(instances))
    return root


@pytest.fixture
def refer(tmp_path):
    return write_refer(tmp_path / "data", "refcoco", "unc", SPEC_REFS, SPEC_INSTANCES)


def test_refseg_spec_example_float32_and_strict(refer, tmp_path):
    pred = tmp_path / "pred.jsonl"
    pred.write_text("\n".join([P7001, P7002, P7003]) + "\n")
    r = tasks.refseg(dataset="refcoco", split="testA", data_root=refer, pred=pred, quiet=True)
    # (I, U) per sentence: 7001 (6, 6), 7002 (4, 14), 7003 (0, 9); one image item of 3 targets
    assert [(s["intersection"], s["union"]) for s in r["per_sample"]] == [(6, 6), (4, 14), (0, 9)]
    assert r["details"]["intersection_sum"] == 10.0 and r["details"]["union_sum"] == 29.0
    assert r["metrics"]["gIoU"] == pytest.approx(0.4285694, abs=2e-7)  # float32 with the 1e-5 epsilons
    assert r["metrics"]["cIoU"] == pytest.approx(0.3448276, abs=2e-7)
    assert r["details"]["giou_str"].startswith("0.428569")
    assert r["label"] == "pred"
    s = tasks.refseg(dataset="refcoco", split="testA", data_root=refer, pred=pred, strict=True, quiet=True)
    assert s["metrics"]["gIoU"] == pytest.approx((1.0 + 4.0 / 14.0) / 3.0, rel=1e-15)
    assert s["metrics"]["cIoU"] == pytest.approx(10.0 / 29.0, rel=1e-15)
    assert r["signature"]["strict"] == "off" and s["signature"]["strict"] == "on(exact_arithmetic)"


def test_refseg_coverage_modes(refer, tmp_path):
    pred = tmp_path / "run1" / "predictions.jsonl"
    pred.parent.mkdir()
    pred.write_text(P7001 + "\n" + P7002 + "\n")
    args = dict(dataset="refcoco", split="testA", data_root=refer, pred=pred, quiet=True, strict=True)
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.refseg(**args)
    assert e.value.file == str(pred)
    assert "1 of 3 evaluated sentences have no prediction: sent_id 7003" in str(e.value)
    r = tasks.refseg(**args, allow_missing=True)
    assert r["label"] == "run1"  # predictions.jsonl: the folder's name, as the CLI
    assert r["signature"]["coverage"] == "allow-missing"
    assert r["details"]["num_missing"] == 1
    assert r["per_sample"][2] == {"sent_id": 7003, "ref_id": 502, "image_id": 42, "item": 0, "intersection": 0,
                                  "union": 9, "iou": 0.0, "predicted": False}
    r = tasks.refseg(**args, only_present=True)
    assert r["metrics"]["cIoU"] == pytest.approx(10.0 / 20.0, rel=1e-15)
    assert len(r["per_sample"]) == 2
    with pytest.raises(glamm_eval.InputError):
        tasks.refseg(**args, allow_missing=True, only_present=True)


def test_refseg_argument_and_file_errors(refer, tmp_path):
    pred = tmp_path / "pred.jsonl"
    pred.write_text(P7001 + "\n" + P7002 + "\n" + P7003 + "\n")
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.refseg(dataset="refcoco++", data_root=refer, pred=pred)
    assert e.value.record == "dataset"
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.refseg(dataset="refcoco", split="testA", data_root=refer, pred=pred, gt_overlap="max")
    assert e.value.record == "gt_overlap"
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.refseg(dataset="refcoco", data_root=tmp_path / "nowhere", pred=pred)
    assert e.value.file.endswith("refs(unc).p")
    pred.write_text(P7001 + "\n{not json\n")
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.refseg(dataset="refcoco", split="testA", data_root=refer, pred=pred, quiet=True)
    assert e.value.file == str(pred) and e.value.record


def test_refseg_equals_cli_record(refer, tmp_path, cli):
    pred = tmp_path / "pred.jsonl"
    pred.write_text("\n".join([P7001, P7002, P7003]) + "\n")
    for strict in (False, True):
        extra = ["--strict"] if strict else []
        py = tasks.refseg(dataset="refcoco", split="testA", data_root=refer, pred=pred, strict=strict, quiet=True)
        rec = cli("refseg", "--dataset", "refcoco", "--split", "testA", "--data-root", refer, "--pred", pred, *extra)
        same_record(py, rec)


# ---- regcap: tests/eval/tasks/caption_task_fixture.h kRegcapGt / kRegcapRes ---------------------------------------

REGCAP_GT = {
    "images": [{"id": 1, "file_name": "2301.jpg", "height": 6, "width": 8},
               {"id": 2, "file_name": "2301.jpg", "height": 6, "width": 8},
               {"id": 3, "file_name": "2417.jpg", "height": 6, "width": 8}],
    "annotations": [
        {"id": 1, "image_id": 1, "bbox": [1.0, 1.0, 3.0, 2.0], "area": 6.0, "caption": "red kite in the sky"},
        {"id": 2, "image_id": 2, "bbox": [4.0, 2.0, 3.0, 3.0], "area": 9.0, "caption": "a wooden bench"},
        {"id": 3, "image_id": 3, "bbox": [0.0, 3.0, 2.0, 3.0], "area": 6.0, "caption": "white dog"}]}
REGCAP_RES = [{"image_id": 1, "caption": "a red kite flying high"}, {"image_id": 3, "caption": "a white dog lying down"}]


def test_regcap_coverage_modes(tmp_path, cli):
    write_json(tmp_path / "gt.json", REGCAP_GT)
    write_json(tmp_path / "res.json", REGCAP_RES)
    args = dict(dataset="vg", annotations=tmp_path / "gt.json", pred=tmp_path / "res.json", quiet=True)
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.regcap(**args)
    assert "1 of 3 samples have no prediction: image_id 2" in str(e.value)
    r = tasks.regcap(**args, allow_missing=True, meteor_resources=METEOR)
    assert len(r["per_sample"]) == 3
    assert r["per_sample"][1]["predicted"] is False and r["per_sample"][1]["caption_tokenized"] == ""
    assert r["details"]["num_missing"] == 1
    assert r["split"] == "test"
    assert r["signature"]["coverage"] == "allow-missing"
    same_record(r, cli("regcap", "--dataset", "vg", "--annotations", tmp_path / "gt.json", "--pred",
                       tmp_path / "res.json", "--allow-missing", "--meteor-resources", METEOR))
    # only_present scores what a GT of the predicted regions alone scores
    present = tasks.regcap(**args, only_present=True)
    assert present["warnings"][-1] == ("1 sample(s) without a prediction left out (--only-present): the score "
                                       "covers only part of the set")
    gt2 = dict(REGCAP_GT, images=[REGCAP_GT["images"][0], REGCAP_GT["images"][2]],
               annotations=[REGCAP_GT["annotations"][0], REGCAP_GT["annotations"][2]])
    write_json(tmp_path / "gt2.json", gt2)
    alone = tasks.regcap(dataset="vg", annotations=tmp_path / "gt2.json", pred=tmp_path / "res.json", quiet=True)
    assert present["metrics"] == alone["metrics"]
    assert present["metric_order"] == ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"]
    with pytest.raises(glamm_eval.InputError):
        tasks.regcap(**args, allow_missing=True, only_present=True)
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.regcap(dataset="vg", annotations=tmp_path / "none.json", pred=tmp_path / "res.json")
    assert e.value.file == str(tmp_path / "none.json")


def test_regcap_strict_changes_the_signature(tmp_path):
    write_json(tmp_path / "gt.json", REGCAP_GT)
    write_json(tmp_path / "res.json", REGCAP_RES)
    args = dict(dataset="vg", annotations=tmp_path / "gt.json", pred=tmp_path / "res.json", quiet=True,
                only_present=True)
    off, on = tasks.regcap(**args), tasks.regcap(**args, strict=True)
    assert off["signature"]["strict"] == "off" and on["signature"]["strict"].startswith("on(")


# ---- imagecap: NoCaps fixtures of tests/eval/tasks/caption_tasks_test.cpp -----------------------------------------

NOCAPS_IMAGES = [{"id": 0, "file_name": "00aa11bb22cc33dd.jpg", "domain": "out-domain"},
                 {"id": 1, "file_name": "0123456789abcdef.jpg", "domain": "near-domain"},
                 {"id": 2, "file_name": "0123456789abcdee.jpg", "domain": "near-domain"}]
NOCAPS_PRED = [{"image_id": 0, "caption": "a lantern hangs on a wall"}, {"image_id": 1, "caption": "a man rides a bicycle"},
               {"image_id": 2, "caption": "a woman on a horse"}]


def test_imagecap_nocaps_val_domains(tmp_path, cli):
    write_json(tmp_path / "val.json", {
        "licenses": [], "info": {"version": "0.1"}, "images": NOCAPS_IMAGES,
        "annotations": [{"image_id": 0, "id": 0, "caption": "A red lantern hangs outside."},
                        {"image_id": 0, "id": 1, "caption": "A lantern on a wall."},
                        {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."},
                        {"image_id": 2, "id": 3, "caption": "A woman rides a horse."}]})
    write_json(tmp_path / "pred.json", NOCAPS_PRED)
    r = tasks.imagecap(dataset="nocaps", annotations=tmp_path / "val.json", pred=tmp_path / "pred.json",
                       no_spice=True, quiet=True, meteor_resources=METEOR)
    assert r["split"] == "val"
    assert r["per_sample"][1]["domain"] == "near-domain"
    assert r["details"]["domains"]["near-domain"]["num_images"] == 2
    assert r["signature"]["spice"] == "off(--no-spice)"
    assert r["metric_order"][-1] == "out-domain/CIDEr"
    same_record(r, cli("imagecap", "--dataset", "nocaps", "--annotations", tmp_path / "val.json", "--pred",
                       tmp_path / "pred.json", "--no-spice", "--meteor-resources", METEOR))
    # a domain alone scores as a set of its own
    write_json(tmp_path / "near.json", {"images": NOCAPS_IMAGES[1:], "annotations": [
        {"image_id": 1, "id": 2, "caption": "A man rides a bicycle."},
        {"image_id": 2, "id": 3, "caption": "A woman rides a horse."}]})
    write_json(tmp_path / "near_pred.json", NOCAPS_PRED[1:])
    near = tasks.imagecap(dataset="nocaps", annotations=tmp_path / "near.json", pred=tmp_path / "near_pred.json",
                          no_spice=True, quiet=True)
    assert near["metrics"]["CIDEr"] == r["metrics"]["near-domain/CIDEr"]


def test_imagecap_nocaps_test_refuses_scoring(tmp_path):
    write_json(tmp_path / "test.json", {"images": NOCAPS_IMAGES})
    write_json(tmp_path / "pred.json", [{"image_id": 2, "caption": "a woman on a horse"},
                                        {"image_id": 0, "caption": "a lantern"}])
    args = dict(dataset="nocaps", annotations=tmp_path / "test.json", pred=tmp_path / "pred.json", quiet=True)
    with pytest.raises(glamm_eval.InputError):  # image 1 has no prediction
        tasks.imagecap(**args)
    sub = tmp_path / "sub.json"
    with pytest.raises(tasks.ScoringRefused) as e:
        tasks.imagecap(**args, allow_missing=True, submission=sub)
    want = [{"image_id": 0, "caption": "a lantern"}, {"image_id": 2, "caption": "a woman on a horse"}]
    assert e.value.submission == want and e.value.path == str(sub)
    with open(sub) as f:
        assert json.load(f) == want
    with pytest.raises(glamm_eval.InputError) as e:
        tasks.imagecap(dataset="coco", annotations=tmp_path / "test.json", pred=tmp_path / "pred.json")
    assert e.value.record == "dataset"


# ---- the GIL -------------------------------------------------------------------------------------------------

GIL_SCRIPT = r"""
import json, os, sys, threading, time
from glamm_eval import tasks
fifo, gt, content = sys.argv[1], sys.argv[2], sys.argv[3]
served = []
def serve():  # a Python thread feeds the predictions file (a FIFO) while the evaluation reads it
    while True:  # once for reading the predictions, once for the record's checksum
        with open(fifo, "w") as f:  # blocks until the evaluation opens the FIFO
            f.write(content)
        served.append(1)
        time.sleep(0.3)  # let that reader see the end of the file and close it before the next one opens
threading.Thread(target=serve, daemon=True).start()
r = tasks.regcap(dataset="vg", annotations=gt, pred=fifo, quiet=True, label="fifo")
print(json.dumps({"served": len(served), "n": len(r["per_sample"])}), flush=True)
os._exit(0)
"""


def test_evaluation_releases_the_gil(tmp_path):
    # The predictions come from a FIFO written by another Python thread of the same process: with the GIL held
    # during the evaluation, that thread could never write and the call would hang (the timeout fails the test).
    write_json(tmp_path / "gt.json", REGCAP_GT)
    fifo = tmp_path / "pred.fifo"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-c", GIL_SCRIPT, str(fifo), str(tmp_path / "gt.json"),
                           json.dumps(REGCAP_RES + [{"image_id": 2, "caption": "a bench"}])],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n"] == 3 and out["served"] >= 1
