"""glamm_eval.coco: COCO / COCOeval on small inline datasets whose AP is worked out by hand."""

import copy

import numpy as np
import pytest

import glamm_eval
from glamm_eval import mask
from glamm_eval.coco import COCO, COCOeval


def dataset():
    return {
        "images": [{"id": 1, "height": 20, "width": 20}, {"id": 2, "height": 20, "width": 20}],
        "categories": [{"id": 1, "name": "cat", "supercategory": "animal"},
                       {"id": 2, "name": "dog", "supercategory": "animal"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0,
             "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0,
             "segmentation": [[0, 0, 10, 0, 10, 10, 0, 10]]},
        ],
    }


def make_coco(data=None):
    coco = COCO()
    coco.dataset = copy.deepcopy(data or dataset())
    coco.createIndex()
    return coco


# Image 1: an exact box (IoU 1); image 2: a box shifted by 5 px (IoU 50/150 < 0.5 at every threshold).
BBOX_RESULTS = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
                {"image_id": 2, "category_id": 1, "bbox": [5, 0, 10, 10], "score": 0.8}]


def run(results, iou_type="bbox", threads=1, **params):
    gt = make_coco()
    dt = gt.loadRes(copy.deepcopy(results))
    ev = COCOeval(gt, dt, iou_type, threads=threads)
    for k, v in params.items():
        setattr(ev.params, k, v)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev


def test_index_and_getters():
    coco = make_coco()
    assert COCO(dataset()).getAnnIds() == [1, 2]  # a dataset dict instead of a file name
    assert coco.getImgIds() == [1, 2]
    assert coco.getCatIds() == [1, 2] and coco.getCatIds(catNms=["dog"]) == [2]
    assert coco.getAnnIds(imgIds=[2]) == [2] and coco.getAnnIds(catIds=[2]) == []
    assert coco.getAnnIds(areaRng=[50, 150]) == [1, 2] and coco.getAnnIds(iscrowd=True) == []
    assert coco.loadAnns(1)[0]["image_id"] == 1 and coco.loadImgs([2])[0]["id"] == 2
    assert sorted(coco.getImgIds(catIds=[1])) == [1, 2]
    m = coco.annToMask(coco.anns[1])
    assert m.shape == (20, 20) and int(m.sum()) == 100


def test_loadRes_fills_ids_areas_and_boxes():
    gt = make_coco()
    dt = gt.loadRes(copy.deepcopy(BBOX_RESULTS))
    assert [a["id"] for a in dt.dataset["annotations"]] == [1, 2]
    assert dt.anns[2]["area"] == 100 and dt.anns[2]["iscrowd"] == 0
    assert dt.anns[2]["segmentation"] == [[5, 0, 5, 10, 15, 10, 15, 0]]
    seg = mask.encode(np.asfortranarray(np.pad(np.ones((3, 4), np.uint8), ((1, 16), (2, 14)))))
    dt = gt.loadRes([{"image_id": 1, "category_id": 1, "segmentation": seg, "score": 1.0}])
    assert dt.anns[1]["area"] == 12 and dt.anns[1]["bbox"].tolist() == [2.0, 1.0, 4.0, 3.0]
    with pytest.raises(AssertionError, match="do not correspond"):
        gt.loadRes([{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1.0}])


def test_bbox_ap_worked_by_hand(capsys):
    ev = run(BBOX_RESULTS)
    # One of two ground truths found at every IoU threshold: precision 1 up to recall 0.5, 0 after, so every
    # threshold gives 51 of 101 recall points; category 2 has no ground truth (-1, left out of the mean).
    assert ev.stats[0] == pytest.approx(51 / 101, abs=1e-15)
    assert ev.stats[1] == pytest.approx(51 / 101, abs=1e-15)
    assert ev.stats[8] == 0.5 and ev.stats[6] == 0.5
    # area 100 < 32^2: both ground truths are "small"; nothing medium or large (-1, as pycocotools prints)
    assert ev.stats[3] == pytest.approx(51 / 101, abs=1e-15) and ev.stats[9] == 0.5
    assert ev.stats[4] == ev.stats[5] == ev.stats[10] == ev.stats[11] == -1
    out = capsys.readouterr().out
    assert " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505" in out
    assert " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.500" in out
    assert "Evaluate annotation type *bbox*" in out


def test_result_arrays_have_pycocotools_shapes_and_types():
    ev = run(BBOX_RESULTS)
    assert ev.eval["counts"] == [10, 101, 2, 4, 3]
    for key, shape in (("precision", (10, 101, 2, 4, 3)), ("scores", (10, 101, 2, 4, 3)),
                       ("recall", (10, 2, 4, 3))):
        assert ev.eval[key].dtype == np.float64 and ev.eval[key].shape == shape
    assert ev.eval["recall"][:, 1].tolist() == [[[-1.0] * 3] * 4] * 10  # category 2: no ground truth
    assert ev.eval["scores"][0, 0, 0, 0, 2] == 0.9
    assert ev.stats.dtype == np.float64 and ev.stats.shape == (12,)
    assert len(ev.evalImgs) == 2 * 4 * 2  # K * A * I
    e = ev.evalImgs[0]  # category 1, area all, image 1
    assert e["image_id"] == 1 and e["category_id"] == 1 and e["aRng"] == [0, 1e10] and e["maxDet"] == 100
    assert e["dtIds"] == [1] and e["gtIds"] == [1] and e["dtScores"] == [0.9]
    assert e["dtMatches"].dtype == np.float64 and e["dtMatches"].tolist() == [[1.0]] * 10
    assert e["gtIgnore"].tolist() == [0] and e["dtIgnore"].dtype == bool
    medium = ev.evalImgs[(0 * 4 + 2) * 2 + 0]  # category 1, area medium, image 1: the GT is ignored there
    assert medium["gtIgnore"].tolist() == [1] and medium["dtIgnore"].tolist() == [[True]] * 10
    assert all(e is None for e in ev.evalImgs[8:])  # category 2: no ground truth, no detection
    iou = ev.ious[(2, 1)]
    assert iou.shape == (1, 1) and iou[0, 0] == pytest.approx(50 / 150, abs=1e-15)
    assert ev.ious[(1, 2)] == []


def test_segm_and_threads_give_the_same_numbers():
    seg_results = [{"image_id": r["image_id"], "category_id": 1, "score": r["score"],
                    "segmentation": mask.frPyObjects(np.array([r["bbox"]], dtype=np.float64), 20, 20)[0]}
                   for r in BBOX_RESULTS]
    one = run(seg_results, "segm")
    two = run(seg_results, "segm", threads=2)
    assert one.stats.tolist() == two.stats.tolist()
    assert one.stats[0] == pytest.approx(51 / 101, abs=1e-15)


def test_use_cats_off_and_params_subsets():
    ev = run(BBOX_RESULTS, useCats=0)
    assert ev.eval["counts"][2] == 1 and ev.evalImgs[0]["category_id"] == -1
    ev = run(BBOX_RESULTS, imgIds=[2])
    assert ev.stats[0] == 0.0  # the one ground truth left is missed


def test_bad_mask_is_an_input_error_naming_the_annotation():
    bad = [{"image_id": 1, "category_id": 1, "score": 1.0, "segmentation": {"size": [20, 20], "counts": "zz"}}]
    gt = make_coco()
    with pytest.raises(ValueError):
        gt.loadRes(copy.deepcopy(bad))  # loadRes computes the area: the string is refused there
    data = dataset()
    data["annotations"][1]["segmentation"] = {"size": [20, 20], "counts": "0"}
    gt = make_coco(data)
    dt = gt.loadRes(copy.deepcopy(BBOX_RESULTS))
    ev = COCOeval(gt, dt, "segm")
    with pytest.raises(glamm_eval.InputError) as err:
        ev.evaluate()
    assert isinstance(err.value, ValueError)
    assert err.value.record == "cocoGt annotation id 2 (image 2)"
    assert "sum" in str(err.value)


def test_changing_params_between_evaluate_and_accumulate_is_refused():
    gt = make_coco()
    ev = COCOeval(gt, gt.loadRes(copy.deepcopy(BBOX_RESULTS)), "bbox")
    ev.evaluate()
    ev.params.maxDets = [1, 10, 50]
    with pytest.raises(ValueError, match="params changed"):
        ev.accumulate()
    with pytest.raises(Exception, match="accumulate"):
        ev.summarize()


def test_keypoints_not_implemented():
    with pytest.raises(ValueError, match="keypoints"):
        COCOeval(make_coco(), make_coco(), "keypoints")


def test_accumulate_reads_back_evalImgs_once_handed_out():
    ev = run(BBOX_RESULTS)
    before = ev.eval["precision"].copy()
    assert len(ev.evalImgs) == 16  # handed out, unchanged: the same arrays come back
    ev.accumulate()
    assert np.array_equal(ev.eval["precision"], before)
    for e in ev.evalImgs:  # edits count, as in pycocotools: every detection ignored -> nothing found
        if e is not None:
            e["dtIgnore"][:] = True
    ev.accumulate()
    ev.summarize()
    assert ev.stats[0] == 0.0 and ev.stats[8] == 0.0
    ev.evalImgs = ev.evalImgs[:3]
    with pytest.raises(ValueError, match="evalImgs has 3 entries"):
        ev.accumulate()


def test_accumulate_twice_without_categories_and_nan_thresholds():
    gt = make_coco()
    ev = COCOeval(gt, gt.loadRes(copy.deepcopy(BBOX_RESULTS)), "bbox")
    ev.params.useCats = 0
    ev.evaluate()
    ev.accumulate()
    ev.accumulate()  # accumulate() sets catIds to [-1] itself; that is no change of parameters
    ev = COCOeval(gt, gt.loadRes(copy.deepcopy(BBOX_RESULTS)), "bbox")
    ev.params.iouThrs = np.array([0.5, np.nan])
    ev.evaluate()
    ev.accumulate()
    assert ev.eval["precision"].shape[0] == 2


def test_field_errors_name_the_annotation():
    gt = make_coco()
    bad = copy.deepcopy(BBOX_RESULTS)
    bad[1]["score"] = "0.8"
    ev = COCOeval(gt, gt.loadRes(bad), "bbox")
    with pytest.raises(glamm_eval.InputError, match="score must be a number") as err:
        ev.evaluate()
    assert err.value.record == "cocoDt annotation id 2 (image 2)"
    seg = [{"image_id": 1, "category_id": 1, "score": 1.0, "segmentation": {"size": [20, 20], "counts": "zz"}}]
    with pytest.raises(glamm_eval.InputError) as err:
        gt.loadRes(seg)
    assert err.value.record == "results[0] (image 1)"
    data = dataset()
    data["images"][1]["height"] = -5
    gt = make_coco(data)
    ev = COCOeval(gt, gt.loadRes(copy.deepcopy(BBOX_RESULTS)), "segm")
    with pytest.raises(glamm_eval.InputError, match="image height") as err:
        ev.evaluate()
    assert err.value.record == "cocoGt annotation id 2 (image 2)"


def test_integral_float_image_ids_and_threads_argument():
    gt = make_coco()
    results = copy.deepcopy(BBOX_RESULTS)
    results[0]["image_id"] = 1.0  # the same dict key as 1 in Python
    ev = COCOeval(gt, gt.loadRes(results), "bbox", threads=None)
    ev.evaluate()
    ev.accumulate()
    assert ev.eval["recall"][0, 0, 0, 2] == 0.5
    for bad in (-1, 2.0, True, 10 ** 6):
        with pytest.raises(glamm_eval.InputError, match="threads"):
            COCOeval(gt, gt, "bbox", threads=bad)


def test_compatibility_helpers():
    ev = run(BBOX_RESULTS)
    assert ev._gts[2, 1][0]["id"] == 2 and ev._dts[1, 1][0]["id"] == 1
    assert ev.computeIoU(2, 1)[0, 0] == pytest.approx(50 / 150, abs=1e-15)
    assert ev.evaluateImg(1, 1, [0, 1e10], 100)["dtIds"] == [1]
    assert mask.encode(np.asfortranarray(np.ones((3, 3), dtype=bool))) == {"size": [3, 3], "counts": b"09"}
