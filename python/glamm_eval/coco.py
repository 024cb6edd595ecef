"""``COCO`` and ``COCOeval`` with the API, printed output and numbers of pycocotools 2.0.6.

Change ``from pycocotools.coco import COCO`` / ``from pycocotools.cocoeval import COCOeval`` to
``from glamm_eval.coco import COCO, COCOeval`` and the rest of a script stays as it is: ``COCO(annotation_file)``
(or ``COCO()`` with ``dataset`` set and ``createIndex()``), ``loadRes`` (file name, list or (N, 7) array),
``getAnnIds``/``getCatIds``/``getImgIds``, ``loadAnns``/``loadCats``/``loadImgs``, ``annToRLE``/``annToMask``;
``COCOeval(cocoGt, cocoDt, iouType)`` with ``params``, ``evaluate()``, ``accumulate()``, ``summarize()``,
``stats``, ``eval`` (``precision`` [T,R,K,A,M], ``recall`` [T,K,A,M], ``scores``), ``evalImgs`` and ``ious``.

The evaluation runs in C++ (the code of ``glamm-eval coco``), so the numbers equal the command line's and
pycocotools' bit for bit. Differences (docs/python.md):

- iouType ``keypoints`` is not implemented (``ValueError``).
- ``evaluate()`` does not replace the annotations' ``segmentation`` by RLEs in place (pycocotools' ``_toMask``
  mutates the dicts); ``ignore`` is still set on the ground truths as pycocotools does.
- ``evalImgs`` and ``ious`` are built when first read (same content; once read, ``accumulate()`` reads
  ``evalImgs`` back, edits included, as pycocotools does); ``accumulate(p)`` accepts only the parameters
  ``evaluate()`` ran with (changing ``params`` in between raises ``ValueError`` rather than giving a different
  number silently).
- The per-image work is not done by the Python methods ``_prepare``/``computeIoU``/``evaluateImg``: overriding
  them in a subclass changes nothing (they return what ``evaluate()`` computed).
- Malformed masks raise ``ValueError`` (``glamm_eval.InputError`` naming the annotation) where pycocotools reads
  garbage or loops; ``COCOeval(..., threads=N)`` evaluates with N threads (same numbers).
"""

import copy
import datetime
import itertools
import json
import time
from collections import defaultdict

import numpy as np

from glamm_eval import mask as maskUtils
from glamm_eval._args import input_error, threads_arg
from glamm_eval._core import coco as _c

__all__ = ["COCO", "COCOeval", "Params"]


def _is_array_like(obj):
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")


def _as_list(x):
    return x if _is_array_like(x) else [x]


class COCO:
    """An annotation file (or an already-loaded dataset dict) indexed as pycocotools' ``COCO`` indexes it.

    Attributes: ``dataset`` (the parsed JSON dict), ``anns``/``imgs``/``cats`` (id → dict; for a repeated id the
    last one wins, as in a dict), ``imgToAnns`` (image id → annotations in file order), ``catToImgs``
    (category id → image ids, one per annotation)."""

    def __init__(self, annotation_file=None):
        self.dataset, self.anns, self.cats, self.imgs = dict(), dict(), dict(), dict()
        self.imgToAnns, self.catToImgs = defaultdict(list), defaultdict(list)
        if isinstance(annotation_file, dict):
            # glamm_eval extension: an already-loaded dataset dict (pycocotools takes only a file name)
            self.dataset = annotation_file
            self.createIndex()
        elif annotation_file is not None:
            print("loading annotations into memory...")
            tic = time.time()
            with open(annotation_file, "r") as f:
                dataset = json.load(f)
            assert type(dataset) == dict, "annotation file format {} not supported".format(type(dataset))
            print("Done (t={:0.2f}s)".format(time.time() - tic))
            self.dataset = dataset
            self.createIndex()

    def createIndex(self):
        """Build ``anns``, ``imgs``, ``cats``, ``imgToAnns`` and ``catToImgs`` from ``dataset``."""
        print("creating index...")
        anns, cats, imgs = {}, {}, {}
        img_to_anns, cat_to_imgs = defaultdict(list), defaultdict(list)
        annotations = self.dataset.get("annotations") if "annotations" in self.dataset else None
        if annotations is not None:
            for ann in annotations:
                img_to_anns[ann["image_id"]].append(ann)
                anns[ann["id"]] = ann
        if "images" in self.dataset:
            for img in self.dataset["images"]:
                imgs[img["id"]] = img
        if "categories" in self.dataset:
            for cat in self.dataset["categories"]:
                cats[cat["id"]] = cat
        if annotations is not None and "categories" in self.dataset:
            for ann in annotations:
                cat_to_imgs[ann["category_id"]].append(ann["image_id"])
        print("index created!")
        self.anns, self.imgToAnns, self.catToImgs, self.imgs, self.cats = anns, img_to_anns, cat_to_imgs, imgs, cats

    def info(self):
        """Print the dataset's ``info`` entries, one ``key: value`` per line."""
        for key, value in self.dataset["info"].items():
            print("{}: {}".format(key, value))

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):
        """Ids of the annotations on ``imgIds`` (image order, file order within), of categories ``catIds``, with
        ``areaRng[0] < area < areaRng[1]`` and the given ``iscrowd``; an empty filter is not applied."""
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset["annotations"]
        else:
            if len(imgIds) != 0:
                anns = list(itertools.chain.from_iterable(
                    self.imgToAnns[i] for i in imgIds if i in self.imgToAnns))
            else:
                anns = self.dataset["annotations"]
            if len(catIds) != 0:
                wanted = _lookup_set(catIds)
                anns = [ann for ann in anns if ann["category_id"] in wanted]
            if len(areaRng) != 0:
                anns = [ann for ann in anns if areaRng[0] < ann["area"] < areaRng[1]]
        if iscrowd is not None:
            return [ann["id"] for ann in anns if ann["iscrowd"] == iscrowd]
        return [ann["id"] for ann in anns]

    def getCatIds(self, catNms=[], supNms=[], catIds=[]):
        """Ids of the categories named ``catNms``, of supercategories ``supNms``, among ``catIds`` (file order)."""
        catNms, supNms, catIds = _as_list(catNms), _as_list(supNms), _as_list(catIds)
        cats = self.dataset["categories"]
        if len(catNms) != 0:
            cats = [cat for cat in cats if cat["name"] in catNms]
        if len(supNms) != 0:
            cats = [cat for cat in cats if cat["supercategory"] in supNms]
        if len(catIds) != 0:
            cats = [cat for cat in cats if cat["id"] in catIds]
        return [cat["id"] for cat in cats]

    def getImgIds(self, imgIds=[], catIds=[]):
        """Ids of the images among ``imgIds`` that hold every category of ``catIds`` (all images when both are
        empty; a list in ``imgs`` order then, else in set order, as pycocotools)."""
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        if len(imgIds) == len(catIds) == 0:
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, cat in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[cat])
            else:
                ids &= set(self.catToImgs[cat])
        return list(ids)

    def _load(self, table, ids):
        if _is_array_like(ids):
            return [table[i] for i in ids]
        if type(ids) == int:
            return [table[ids]]
        return None

    def loadAnns(self, ids=[]):
        """The annotation dicts of ``ids`` (a list, or one int)."""
        return self._load(self.anns, ids)

    def loadCats(self, ids=[]):
        """The category dicts of ``ids`` (a list, or one int)."""
        return self._load(self.cats, ids)

    def loadImgs(self, ids=[]):
        """The image dicts of ``ids`` (a list, or one int)."""
        return self._load(self.imgs, ids)

    def showAnns(self, anns, draw_bbox=False):
        """Caption annotations are printed; drawing instance masks needs matplotlib and is not provided."""
        if len(anns) == 0:
            return 0
        if "caption" in anns[0]:
            for ann in anns:
                print(ann["caption"])
            return None
        raise NotImplementedError("glamm_eval.coco.COCO.showAnns draws only captions (no matplotlib drawing)")

    def loadRes(self, resFile):
        """A results file name, list of result dicts or (N, 7) array [image_id, x, y, w, h, score, class] as a
        new ``COCO`` (pycocotools' ``loadRes``): ids 1..N in list order, ``iscrowd`` 0; bbox results get
        ``area`` = w*h (and a box polygon when they have no segmentation); segmentation results get the RLE's
        pixel count as ``area`` and ``toBbox`` as ``bbox`` when they have none; caption results keep only the
        images they name. The result dicts are updated in place, as pycocotools does."""
        res = COCO()
        res.dataset["images"] = [img for img in self.dataset["images"]]
        print("Loading and preparing results...")
        tic = time.time()
        if type(resFile) == str:
            with open(resFile) as f:
                anns = json.load(f)
        elif type(resFile) == np.ndarray:
            anns = self.loadNumpyAnnotations(resFile)
        else:
            anns = resFile
        assert type(anns) == list, "results in not an array of objects"
        ann_img_ids = [ann["image_id"] for ann in anns]
        assert set(ann_img_ids) == (set(ann_img_ids) & set(self.getImgIds())), \
            "Results do not correspond to current coco set"
        first = anns[0]
        if "caption" in first:
            keep = set(img["id"] for img in res.dataset["images"]) & set(ann_img_ids)
            res.dataset["images"] = [img for img in res.dataset["images"] if img["id"] in keep]
            for i, ann in enumerate(anns):
                ann["id"] = i + 1
        elif "bbox" in first and not first["bbox"] == []:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            for i, ann in enumerate(anns):
                bb = ann["bbox"]
                x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
                if "segmentation" not in ann:
                    ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
                ann["area"] = bb[2] * bb[3]
                ann["id"] = i + 1
                ann["iscrowd"] = 0
        elif "segmentation" in first:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            for i, ann in enumerate(anns):
                try:
                    ann["area"] = maskUtils.area(ann["segmentation"])
                    if "bbox" not in ann:
                        ann["bbox"] = maskUtils.toBbox(ann["segmentation"])
                except (ValueError, TypeError) as e:
                    raise input_error(resFile if type(resFile) == str else None,
                                      "results[{}] (image {!r})".format(i, ann.get("image_id")), str(e)) from None
                ann["id"] = i + 1
                ann["iscrowd"] = 0
        elif "keypoints" in first:
            res.dataset["categories"] = copy.deepcopy(self.dataset["categories"])
            for i, ann in enumerate(anns):
                s = ann["keypoints"]
                x, y = s[0::3], s[1::3]
                x0, x1, y0, y1 = np.min(x), np.max(x), np.min(y), np.max(y)
                ann["area"] = (x1 - x0) * (y1 - y0)
                ann["id"] = i + 1
                ann["bbox"] = [x0, y0, x1 - x0, y1 - y0]
        print("DONE (t={:0.2f}s)".format(time.time() - tic))
        res.dataset["annotations"] = anns
        res.createIndex()
        return res

    def loadNumpyAnnotations(self, data):
        """An (N, 7) array of [image_id, x, y, w, h, score, class] rows as a list of bbox result dicts."""
        print("Converting ndarray to lists...")
        assert type(data) == np.ndarray
        print(data.shape)
        assert data.shape[1] == 7
        n = data.shape[0]
        out = []
        for i in range(n):
            if i % 1000000 == 0:
                print("{}/{}".format(i, n))
            out.append({
                "image_id": int(data[i, 0]),
                "bbox": [data[i, 1], data[i, 2], data[i, 3], data[i, 4]],
                "score": data[i, 5],
                "category_id": int(data[i, 6]),
            })
        return out

    def annToRLE(self, ann):
        """The annotation's segmentation as one compressed RLE (polygon parts merged; an uncompressed RLE
        re-encoded at its own size; a compressed RLE returned as is)."""
        t = self.imgs[ann["image_id"]]
        h, w = t["height"], t["width"]
        segm = ann["segmentation"]
        if type(segm) == list:
            return maskUtils.merge(maskUtils.frPyObjects(segm, h, w))
        if type(segm["counts"]) == list:
            return maskUtils.frPyObjects(segm, h, w)
        return ann["segmentation"]

    def annToMask(self, ann):
        """The annotation's mask as an (h, w) uint8 array."""
        return maskUtils.decode(self.annToRLE(ann))


def _lookup_set(values):
    # Membership as `x in values` (list equality) but in O(1): hashable values only, else fall back to the list.
    try:
        return set(values)
    except TypeError:
        return values


class Params:
    """COCOeval parameters (pycocotools' ``Params`` for iouType segm/bbox): ``imgIds``, ``catIds``, ``iouThrs``
    (np.linspace(.5, .95, 10)), ``recThrs`` (np.linspace(0, 1, 101)), ``maxDets`` [1, 10, 100], ``areaRng``,
    ``areaRngLbl``, ``useCats`` (1), ``iouType``, ``useSegm`` (deprecated, None)."""

    def setDetParams(self):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ["all", "small", "medium", "large"]
        self.useCats = 1

    def __init__(self, iouType="segm"):
        if iouType == "segm" or iouType == "bbox":
            self.setDetParams()
        elif iouType == "keypoints":
            raise ValueError("iouType 'keypoints' is not implemented in glamm_eval (segm and bbox are)")
        else:
            raise Exception("iouType not supported")
        self.iouType = iouType
        self.useSegm = None


def _params_key(p):
    # What accumulate() reads of the parameters. Floats by their bits (a NaN threshold equals itself); catIds only
    # with useCats (without, accumulate() itself sets them to [-1], as pycocotools does).
    bits = lambda xs: [float(x).hex() for x in xs]
    return (p.iouType, list(p.imgIds), list(p.catIds) if p.useCats else [-1], bits(p.iouThrs), bits(p.recThrs),
            list(p.maxDets), [bits(a) for a in p.areaRng], list(p.areaRngLbl), bool(p.useCats))


class COCOeval:
    """pycocotools 2.0.6 ``COCOeval`` for iouType ``segm`` and ``bbox``: ``evaluate()``, ``accumulate()``,
    ``summarize()`` print what pycocotools prints and fill ``evalImgs``, ``ious``, ``eval`` and ``stats`` with the
    same values, types and shapes. ``threads``: worker threads for the per-image evaluation (None or 0 = all
    cores; the numbers do not depend on it).

    The per-image work runs in C++ inside ``evaluate()``: overriding ``_prepare``, ``computeIoU`` or
    ``evaluateImg`` in a subclass changes nothing (they are provided to read results: ``computeIoU(imgId, catId)``
    returns ``ious[imgId, catId]``, ``evaluateImg`` the ``evalImgs`` entry evaluated with ``maxDets[-1]``).
    ``accumulate()`` reads ``evalImgs`` back when it was read (so edits to it count, as in pycocotools)."""

    def __init__(self, cocoGt=None, cocoDt=None, iouType="segm", threads=None):
        if not iouType:
            print("iouType not specified. use default iouType segm")
        self.cocoGt = cocoGt
        self.cocoDt = cocoDt
        self.eval = {}
        self.params = Params(iouType=iouType)
        self._paramsEval = {}
        self.stats = []
        self.threads = threads_arg(threads)
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        self._evaluation = None
        self._evalImgs = defaultdict(list)
        self._ious = {}
        self._img_keys = self._cat_keys = None
        if cocoGt is not None:
            self.params.imgIds = sorted(cocoGt.getImgIds())
            self.params.catIds = sorted(cocoGt.getCatIds())

    # evalImgs and ious are built from the C++ results when first read.
    @property
    def evalImgs(self):
        if self._evaluation is not None and self._evalImgs is None:
            p = self._paramsEval
            self._evalImgs = self._evaluation.eval_imgs(self._img_keys, self._cat_keys, p.areaRng, p.maxDets[-1])
        return self._evalImgs

    @evalImgs.setter
    def evalImgs(self, value):
        self._evalImgs = value  # accumulate() reads it back

    @property
    def ious(self):
        if self._evaluation is not None and self._ious is None:
            self._ious = self._evaluation.ious(self._img_keys, self._cat_keys)
        return self._ious

    @ious.setter
    def ious(self, value):
        self._ious = value

    def _select(self):
        # What pycocotools' _prepare selects: getAnnIds(imgIds, catIds) + loadAnns, in that order.
        p = self.params
        cat_filter = p.catIds if p.useCats else []
        gts = self.cocoGt.loadAnns(self.cocoGt.getAnnIds(imgIds=p.imgIds, catIds=cat_filter))
        dts = self.cocoDt.loadAnns(self.cocoDt.getAnnIds(imgIds=p.imgIds, catIds=cat_filter))
        for gt in gts:
            gt["ignore"] = "iscrowd" in gt and gt["iscrowd"]
        return gts, dts

    def _prepare(self):
        """Group the selected annotations into ``_gts`` / ``_dts`` by (image_id, category_id), as pycocotools
        (segmentations are left as they are; ``evaluate()`` converts them in C++)."""
        gts, dts = self._select()
        self._gts, self._dts = defaultdict(list), defaultdict(list)
        for gt in gts:
            self._gts[gt["image_id"], gt["category_id"]].append(gt)
        for dt in dts:
            self._dts[dt["image_id"], dt["category_id"]].append(dt)
        self._evalImgs = defaultdict(list)
        self._evaluation = None
        self.eval = {}
        return gts, dts

    def computeIoU(self, imgId, catId):
        """``ious[imgId, catId]`` of the last ``evaluate()`` (D×G float64, or ``[]``)."""
        if self._evaluation is None:
            raise ValueError("run evaluate() first (glamm_eval computes every IoU there)")
        return self.ious[imgId, catId]

    def evaluateImg(self, imgId, catId, aRng, maxDet):
        """The ``evalImgs`` entry of the last ``evaluate()`` for this image, category and area range (a dict, or
        None). Only ``maxDet == params.maxDets[-1]`` was evaluated (as pycocotools' evaluate() does)."""
        if self._evaluation is None:
            raise ValueError("run evaluate() first (glamm_eval evaluates every image there)")
        p = self._paramsEval
        if maxDet != p.maxDets[-1]:
            raise NotImplementedError("glamm_eval evaluates images with maxDet = params.maxDets[-1] only")
        k = self._cat_keys.index(catId)
        a = [list(r) for r in p.areaRng].index(list(aRng))
        i = self._img_keys.index(imgId)
        return self.evalImgs[(k * len(p.areaRng) + a) * len(self._img_keys) + i]

    def evaluate(self):
        """Match detections to ground truths per image, category and area range (pycocotools' ``evaluate``)."""
        tic = time.time()
        print("Running per image evaluation...")
        p = self.params
        if p.useSegm is not None:
            p.iouType = "segm" if p.useSegm == 1 else "bbox"
            print("useSegm (deprecated) is not None. Running {} evaluation".format(p.iouType))
        print("Evaluate annotation type *{}*".format(p.iouType))
        if p.iouType not in ("segm", "bbox"):
            raise ValueError("iouType '{}' is not implemented in glamm_eval (segm and bbox are)".format(p.iouType))
        p.imgIds = list(np.unique(p.imgIds))
        if p.useCats:
            p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self.params = p
        gts, dts = self._prepare()
        cat_keys = p.catIds if p.useCats else [-1]
        self._evaluation = _c.evaluate(
            gts, dts, self.cocoGt.imgs, self.cocoDt.imgs, p.imgIds, p.catIds,
            [float(t) for t in p.iouThrs], [float(r) for r in p.recThrs], [int(m) for m in p.maxDets],
            [[float(a[0]), float(a[1])] for a in p.areaRng], list(p.areaRngLbl), bool(p.useCats), p.iouType,
            int(self.threads))
        self._img_keys, self._cat_keys = list(p.imgIds), list(cat_keys)
        self._evalImgs = None
        self._ious = None
        self.eval = {}
        self._paramsEval = copy.deepcopy(self.params)
        self._params_key = _params_key(self.params)
        print("DONE (t={:0.2f}s).".format(time.time() - tic))

    def accumulate(self, p=None):
        """Precision/recall over all images per IoU threshold, recall threshold, category, area range and maxDets
        (pycocotools' ``accumulate``) into ``self.eval``."""
        print("Accumulating evaluation results...")
        tic = time.time()
        if self._evaluation is None:
            if not self._evalImgs:
                print("Please run evaluate() first")
            raise ValueError("glamm_eval accumulates only the results of its own evaluate(); run evaluate() first")
        if p is None:
            p = self.params
        if _params_key(p) != self._params_key:
            raise ValueError("params changed since evaluate(); glamm_eval accumulates with the parameters "
                             "evaluate() ran with: run evaluate() again")
        p.catIds = p.catIds if p.useCats == 1 else [-1]
        # evalImgs handed out to the caller may have been edited: then accumulate what it holds now.
        precision, recall, scores = self._evaluation.accumulate(self._evalImgs)
        T, R, K, A, M = precision.shape
        self.eval = {
            "params": p,
            "counts": [T, R, K, A, M],
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "precision": precision,
            "recall": recall,
            "scores": scores,
        }
        print("DONE (t={:0.2f}s).".format(time.time() - tic))

    def _summarize(self, ap=1, iouThr=None, areaRng="all", maxDets=100):
        p = self.params
        line = " {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}"
        title = "Average Precision" if ap == 1 else "Average Recall"
        kind = "(AP)" if ap == 1 else "(AR)"
        iou_text = "{:0.2f}:{:0.2f}".format(p.iouThrs[0], p.iouThrs[-1]) if iouThr is None \
            else "{:0.2f}".format(iouThr)
        aind = [i for i, lbl in enumerate(p.areaRngLbl) if lbl == areaRng]
        mind = [i for i, m in enumerate(p.maxDets) if m == maxDets]
        s = self.eval["precision"] if ap == 1 else self.eval["recall"]
        if iouThr is not None:
            s = s[np.where(iouThr == p.iouThrs)[0]]
        s = s[:, :, :, aind, mind] if ap == 1 else s[:, :, aind, mind]
        kept = s[s > -1]
        mean_s = -1 if len(kept) == 0 else np.mean(kept)
        print(line.format(title, kind, iou_text, areaRng, maxDets, mean_s))
        return mean_s

    def summarize(self):
        """Print the 12 standard AP/AR lines and set ``stats`` (float64 array of 12), as pycocotools."""
        if not self.eval:
            raise Exception("Please run accumulate() first")
        md = self.params.maxDets
        stats = np.zeros((12,))
        stats[0] = self._summarize(1)
        stats[1] = self._summarize(1, iouThr=.5, maxDets=md[2])
        stats[2] = self._summarize(1, iouThr=.75, maxDets=md[2])
        stats[3] = self._summarize(1, areaRng="small", maxDets=md[2])
        stats[4] = self._summarize(1, areaRng="medium", maxDets=md[2])
        stats[5] = self._summarize(1, areaRng="large", maxDets=md[2])
        stats[6] = self._summarize(0, maxDets=md[0])
        stats[7] = self._summarize(0, maxDets=md[1])
        stats[8] = self._summarize(0, maxDets=md[2])
        stats[9] = self._summarize(0, areaRng="small", maxDets=md[2])
        stats[10] = self._summarize(0, areaRng="medium", maxDets=md[2])
        stats[11] = self._summarize(0, areaRng="large", maxDets=md[2])
        self.stats = stats

    def __str__(self):
        self.summarize()
        return ""
