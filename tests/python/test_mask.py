"""glamm_eval.mask: pycocotools.mask's API on small hand-checked masks (values from the RLE rules in
metrics/mask/rle.h: column-major runs starting with a 0-run, the 5-bit string alphabet '0'..'o')."""

import numpy as np
import pytest

from glamm_eval import mask


def fortran(rows):
    return np.asfortranarray(np.array(rows, dtype=np.uint8))


def test_encode_full_and_sparse_masks():
    assert mask.encode(fortran(np.ones((4, 3)))) == {"size": [4, 3], "counts": b"0<"}  # counts [0, 12]
    m = np.zeros((4, 3), dtype=np.uint8, order="F")
    m[1, 1] = m[3, 1] = 1  # column-major pixels 5 and 7: counts [5, 1, 1, 1, 4]
    assert mask.encode(m) == {"size": [4, 3], "counts": b"51103"}


def test_encode_refuses_other_orders_and_dtypes_like_pycocotools():
    with pytest.raises(ValueError, match="Fortran"):
        mask.encode(np.ones((2, 3, 1), dtype=np.uint8, order="C"))
    with pytest.raises(ValueError, match="dtype"):
        mask.encode(np.ones((2, 3, 1), dtype=np.float64, order="F"))


def test_decode_round_trip_shapes_and_order():
    m = np.zeros((5, 7, 2), dtype=np.uint8, order="F")
    m[1:4, 2:6, 0] = 1
    m[0, 0, 1] = 1
    rles = mask.encode(m)
    assert len(rles) == 2 and all(type(r["counts"]) is bytes for r in rles)
    back = mask.decode(rles)
    assert back.shape == (5, 7, 2) and back.dtype == np.uint8 and back.flags["F_CONTIGUOUS"]
    assert np.array_equal(back, m)
    one = mask.decode(rles[0])
    assert one.shape == (5, 7) and np.array_equal(one, m[:, :, 0])
    # str counts are accepted too
    assert np.array_equal(mask.decode({"size": [5, 7], "counts": rles[1]["counts"].decode()}), m[:, :, 1])


def test_area_and_bbox_types():
    m = np.zeros((5, 7, 2), dtype=np.uint8, order="F")
    m[1:4, 2:6, 0] = 1
    m[0, 0, 1] = 1
    rles = mask.encode(m)
    a = mask.area(rles)
    assert a.dtype == np.uint32 and a.tolist() == [12, 1]
    assert isinstance(mask.area(rles[0]), np.uint32) and mask.area(rles[0]) == 12
    b = mask.toBbox(rles)
    assert b.dtype == np.float64 and b.shape == (2, 4)
    assert b.tolist() == [[2.0, 1.0, 4.0, 3.0], [0.0, 0.0, 1.0, 1.0]]
    assert mask.toBbox(rles[0]).tolist() == [2.0, 1.0, 4.0, 3.0]


def test_iou_of_rles_and_boxes():
    m = np.zeros((4, 4, 2), dtype=np.uint8, order="F")
    m[0:2, 0:2, 0] = 1  # 4 pixels
    m[0:2, 0:4, 1] = 1  # 8 pixels, contains the first
    r = mask.encode(m)
    iou = mask.iou(r, r, [0, 0])
    assert iou.dtype == np.float64 and iou.shape == (2, 2) and iou.flags["F_CONTIGUOUS"]
    assert iou.tolist() == [[1.0, 0.5], [0.5, 1.0]]
    # a crowd ground truth divides by the detection's area: |d ∩ g| / |d|
    assert mask.iou([r[1]], [r[0]], [1]).tolist() == [[0.5]]
    assert mask.iou([r[0]], [r[1]], [1]).tolist() == [[1.0]]
    boxes = np.array([[0, 0, 10, 10], [5, 0, 10, 10]], dtype=np.float64)
    assert mask.iou(boxes, boxes, [0, 0]).tolist() == [[1.0, 50 / 150], [50 / 150, 1.0]]
    assert mask.iou([[0, 0, 10, 10]], [[5, 0, 10, 10]], [0]).tolist() == [[50 / 150]]
    assert mask.iou([], r, [0, 0]) == []
    with pytest.raises(ValueError, match="same data type"):
        mask.iou(r, boxes, [0, 0])
    with pytest.raises(AssertionError, match="iscrowd"):  # pycocotools asserts the same
        mask.iou(r, r, [0])
    with pytest.raises(AssertionError, match="iscrowd"):
        mask.iou([], r, [])


def test_merge_union_intersection_and_size_mismatch():
    m = np.zeros((4, 4, 2), dtype=np.uint8, order="F")
    m[0:2, 0:2, 0] = 1
    m[1:3, 1:3, 1] = 1
    r = mask.encode(m)
    assert mask.area(mask.merge(r)) == 7
    assert mask.area(mask.merge(r, intersect=1)) == 1
    other = mask.encode(np.ones((3, 3), dtype=np.uint8, order="F"))
    assert mask.merge([r[0], other]) == {"size": [0, 0], "counts": b""}


def test_frPyObjects_dispatch():
    # boxes: an (n, 4) array; the box [1, 1, 3, 2] covers 6 pixels
    rles = mask.frPyObjects(np.array([[1, 1, 3, 2]], dtype=np.float64), 5, 5)
    assert len(rles) == 1 and mask.area(rles[0]) == 6
    # a list of 4-number lists goes to pycocotools' frBbox, which takes only arrays
    with pytest.raises(TypeError):
        mask.frPyObjects([[1, 1, 3, 2]], 5, 5)
    # polygons: a list of flat coordinate lists (a 3x3 square's corners -> the 4 pixels whose centres are inside)
    polys = mask.frPyObjects([[1.0, 1.0, 3.0, 1.0, 3.0, 3.0, 1.0, 3.0]], 5, 5)
    assert mask.area(polys[0]) == 4 and mask.toBbox(polys[0]).tolist() == [1.0, 1.0, 2.0, 2.0]
    # uncompressed RLE: re-encoded at its own size, not h x w
    unc = {"size": [2, 3], "counts": [1, 2, 3]}
    assert mask.frPyObjects(unc, 99, 99) == {"size": [2, 3], "counts": b"123"}
    assert mask.frPyObjects([unc, unc], 99, 99) == [{"size": [2, 3], "counts": b"123"}] * 2
    with pytest.raises(ValueError, match="not supported"):
        mask.frPyObjects(42, 5, 5)


def test_bad_rle_strings_raise_value_error():
    with pytest.raises(ValueError, match="outside"):
        mask.decode({"size": [2, 2], "counts": "zz"})
    with pytest.raises(ValueError):
        mask.area({"size": [2, 2], "counts": "0"})  # counts sum to 0, not 4
    with pytest.raises(ValueError, match="size"):
        mask.decode([{"size": [2, 2], "counts": b"04"}, {"size": [1, 4], "counts": b"04"}])
