"""COCO run-length-encoded masks with the API and semantics of ``pycocotools.mask`` (2.0.6).

An RLE is a dict ``{'size': [h, w], 'counts': bytes}`` (``counts`` may also be a ``str`` on input). Masks are
``uint8`` NumPy arrays of shape ``(h, w)`` or ``(h, w, n)`` in Fortran (column-major) order, as pycocotools uses.

Where pycocotools 2.0.6 reads past a buffer or decodes garbage (a malformed ``counts`` string, RLEs of different
sizes in one ``decode`` call, an ``iscrowd`` list shorter than the ground truths), these functions raise
``ValueError`` instead. Everything else, including the input dispatch of ``frPyObjects`` and ``iou``, follows
pycocotools.
"""

import numpy as np

from glamm_eval._core import mask as _m

__all__ = ["encode", "decode", "iou", "merge", "area", "toBbox", "frPyObjects"]


def encode(bimask):
    """rleEncode: ``(h, w)`` → one RLE dict, ``(h, w, n)`` → a list of n. ``uint8`` (or ``bool``) in Fortran order
    only (``np.asfortranarray(m, dtype=np.uint8)``); any other dtype or order is a ``ValueError``, as in
    pycocotools."""
    if isinstance(bimask, np.ndarray) and bimask.dtype == np.bool_:
        bimask = bimask.view(np.uint8)  # one byte of 0/1 per pixel, as pycocotools' uint8 buffer reads bool
    if len(bimask.shape) == 3:
        return _m.encode(bimask)
    if len(bimask.shape) == 2:
        h, w = bimask.shape
        return _m.encode(bimask.reshape((h, w, 1), order="F"))[0]
    raise ValueError("encode expects an (h, w) or (h, w, n) uint8 array")


def decode(rleObjs):
    """rleDecode: a list of n RLEs → ``(h, w, n)`` uint8; one RLE → ``(h, w)``. Fortran order."""
    if type(rleObjs) == list:
        return _m.decode(rleObjs)
    return _m.decode([rleObjs])[:, :, 0]


def area(rleObjs):
    """rleArea: pixel count; a list → ``uint32`` array (n,), one RLE → ``numpy.uint32``."""
    if type(rleObjs) == list:
        return _m.area(rleObjs)
    return _m.area([rleObjs])[0]


def toBbox(rleObjs):
    """rleToBbox: ``[x, y, w, h]`` float64; a list → (n, 4), one RLE → (4,)."""
    if type(rleObjs) == list:
        return _m.to_bbox(rleObjs)
    return _m.to_bbox([rleObjs])[0]


def merge(rleObjs, intersect=0):
    """rleMerge: union (or intersection when ``intersect``) of a list of RLEs → one RLE."""
    return _m.merge(rleObjs, bool(intersect))


def _is_box_list(objs):
    return all(len(obj) == 4 and (type(obj) == list or type(obj) == np.ndarray) for obj in objs)


def iou(dt, gt, pyiscrowd):
    """rleIou / bbIou: the ``(D, G)`` float64 IoU matrix (Fortran order), ``[]`` when either side is empty.

    ``dt`` and ``gt`` are both lists of RLEs, or both boxes (an (n, 4) array or a list of 4-lists/arrays).
    A crowd ground truth (``pyiscrowd[g]`` true) uses the detection's area as the union."""
    def prep(objs):
        if len(objs) == 0:
            return objs, None
        if type(objs) == np.ndarray:
            if objs.ndim != 2 or objs.shape[1] != 4:
                raise ValueError("numpy ndarray input is only for *bounding boxes* and should have Nx4 dimension")
            return objs.astype(np.double), "box"
        if type(objs) == list:
            if _is_box_list(objs):
                arr = np.array(objs, dtype=np.double)
                if arr.ndim == 1:
                    arr = arr.reshape((1, arr.shape[0]))
                return arr, "box"
            if all(type(obj) == dict for obj in objs):
                return objs, "rle"
            raise ValueError("list input can be bounding box (Nx4) or RLEs ([RLE])")
        raise ValueError("unrecognized type.  The following type: RLEs (rle), np.ndarray (box), and list (box) "
                         "are supported.")

    dt, dt_kind = prep(dt)
    gt, gt_kind = prep(gt)
    if len(pyiscrowd) != len(gt):
        raise AssertionError("iou(iscrowd=) must have the same length as gt")  # pycocotools asserts this
    if len(dt) == 0 or len(gt) == 0:
        return []
    if dt_kind != gt_kind:
        raise ValueError("The dt and gt should have the same data type, either RLEs, list or np.ndarray")
    iscrowd = np.array(pyiscrowd, dtype=np.uint8)
    if dt_kind == "rle":
        return _m.iou_rle(dt, gt, iscrowd)
    return _m.iou_bbox(dt, gt, iscrowd)


def _fr_bbox(bb, h, w):
    if type(bb) != np.ndarray:
        # pycocotools' frBbox takes only a NumPy array; a list of 4-number lists fails there with this TypeError.
        raise TypeError("Argument 'bb' has incorrect type (expected numpy.ndarray, got list)")
    return _m.fr_bbox(bb, h, w)


def _fr_uncompressed(ucRles, h, w):
    return [_m.fr_uncompressed(np.array(obj["counts"], dtype=np.uint32), obj["size"][0], obj["size"][1])
            for obj in ucRles]


def frPyObjects(pyobj, h, w):
    """Convert polygons, boxes or uncompressed RLEs to compressed RLEs (pycocotools' dispatch, in its order):
    an (n, 4) array → n box RLEs; a list whose first item has 4 entries → boxes (a NumPy array only, as in
    pycocotools); a list whose first item has more than 4 → polygons; a list of ``{'size', 'counts': [...]}``
    dicts → uncompressed RLEs; one polygon (a flat list of more than 4 numbers) → one RLE; one uncompressed RLE
    dict → one RLE. Polygons and boxes are rasterised on an ``h`` × ``w`` image; uncompressed RLEs keep their own
    size."""
    if type(pyobj) == np.ndarray:
        return _fr_bbox(pyobj, h, w)
    if type(pyobj) == list and len(pyobj[0]) == 4:
        return _fr_bbox(pyobj, h, w)
    if type(pyobj) == list and len(pyobj[0]) > 4:
        return _m.fr_poly(pyobj, h, w)
    if type(pyobj) == list and type(pyobj[0]) == dict and "counts" in pyobj[0] and "size" in pyobj[0]:
        return _fr_uncompressed(pyobj, h, w)
    if type(pyobj) == list and len(pyobj) > 4:
        return _m.fr_poly([pyobj], h, w)[0]
    if type(pyobj) == dict and "counts" in pyobj and "size" in pyobj:
        return _fr_uncompressed([pyobj], h, w)[0]
    raise ValueError("input type is not supported.")
