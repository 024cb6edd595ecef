// glamm_eval._core.mask: the C primitives behind glamm_eval.mask (python/glamm_eval/mask.py), which does
// pycocotools.mask's type dispatch in Python. Each function follows the pycocotools 2.0.6 _mask.pyx function of
// the same role; arrays are NumPy, masks Fortran-ordered (h, w, n) uint8 as pycocotools returns them.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "metrics/mask/rle.h"
#include "python/src/bindings.h"
#include "python/src/convert.h"

namespace py = pybind11;

namespace glamm::python {
namespace {

py::list to_py_list(const std::vector<mask::Rle>& rles) {
  py::list out;
  for (const auto& r : rles) out.append(rle_to_py(r));
  return out;
}

// encode(mask): mask an (h, w, n) uint8 array in Fortran order (pycocotools refuses any other dtype or order).
py::list encode(py::array a) {
  if (!a.dtype().is(py::dtype::of<uint8_t>()))
    throw py::value_error("Buffer dtype mismatch, expected 'uint8_t' but got '" + py::str(a.dtype()).cast<std::string>() +
                          "' (encode takes uint8 or bool masks)");
  if (a.ndim() != 3) throw py::value_error("Buffer has wrong number of dimensions (expected 3, got " +
                                           std::to_string(a.ndim()) + ")");
  if (!(a.flags() & py::array::f_style)) throw py::value_error("ndarray is not Fortran contiguous");
  size_t h = static_cast<size_t>(a.shape(0)), w = static_cast<size_t>(a.shape(1)), n = static_cast<size_t>(a.shape(2));
  if (h > 0xFFFFFFFFu || w > 0xFFFFFFFFu) throw py::value_error("mask side above 2^32-1");
  const uint8_t* data = static_cast<const uint8_t*>(a.data());
  std::vector<mask::Rle> rles(n);
  {
    py::gil_scoped_release nogil;
    for (size_t i = 0; i < n; ++i)
      rles[i] = mask::encode(data + i * h * w, static_cast<uint32_t>(h), static_cast<uint32_t>(w));
  }
  return to_py_list(rles);
}

// decode(rleObjs) -> (h, w, n) uint8, Fortran order.
py::array decode(py::handle objs) {
  std::vector<mask::Rle> rles = rles_from_py(objs);
  size_t h = rles.empty() ? 0 : rles[0].h, w = rles.empty() ? 0 : rles[0].w;
  for (size_t i = 1; i < rles.size(); ++i)
    if (rles[i].h != h || rles[i].w != w)
      throw py::value_error("decode: every RLE must have the size of the first (" + std::to_string(h) + "x" +
                            std::to_string(w) + "); object " + std::to_string(i) + " is " +
                            std::to_string(rles[i].h) + "x" + std::to_string(rles[i].w));
  size_t n = rles.size();
  py::array_t<uint8_t, py::array::f_style> out({h, w, n});
  uint8_t* dst = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    for (size_t i = 0; i < n; ++i) {
      std::vector<uint8_t> m = mask::decode(rles[i]);
      if (!m.empty()) std::memcpy(dst + i * h * w, m.data(), m.size());
    }
  }
  return std::move(out);
}

py::array_t<uint32_t> area(py::handle objs) {
  std::vector<mask::Rle> rles = rles_from_py(objs);
  py::array_t<uint32_t> out(static_cast<py::ssize_t>(rles.size()));
  auto o = out.mutable_unchecked<1>();
  for (size_t i = 0; i < rles.size(); ++i) o(static_cast<py::ssize_t>(i)) = mask::area(rles[i]);
  return out;
}

py::array_t<double> to_bbox(py::handle objs) {
  std::vector<mask::Rle> rles = rles_from_py(objs);
  py::array_t<double> out({static_cast<py::ssize_t>(rles.size()), py::ssize_t(4)});
  auto o = out.mutable_unchecked<2>();
  for (size_t i = 0; i < rles.size(); ++i) {
    mask::Box b = mask::to_bbox(rles[i]);
    for (py::ssize_t j = 0; j < 4; ++j) o(static_cast<py::ssize_t>(i), j) = b[static_cast<size_t>(j)];
  }
  return out;
}

py::dict merge(py::handle objs, bool intersect) {
  std::vector<mask::Rle> rles = rles_from_py(objs);
  mask::Rle r;
  {
    py::gil_scoped_release nogil;
    r = mask::merge(rles, intersect);
  }
  return rle_to_py(r);
}

// The D x G matrix as pycocotools returns it: float64, Fortran order (its C code fills o[g*m + d]).
py::array_t<double, py::array::f_style> iou_matrix(size_t m, size_t n, const std::vector<double>& row_major) {
  py::array_t<double, py::array::f_style> out({m, n});
  auto o = out.mutable_unchecked<2>();
  for (size_t d = 0; d < m; ++d)
    for (size_t g = 0; g < n; ++g) o(static_cast<py::ssize_t>(d), static_cast<py::ssize_t>(g)) = row_major[d * n + g];
  return out;
}

std::vector<uint8_t> crowd_flags(py::array_t<uint8_t, py::array::forcecast> iscrowd, size_t n) {
  if (iscrowd.ndim() > 1) throw py::value_error("iscrowd must be a flat list");
  std::vector<uint8_t> out(static_cast<size_t>(iscrowd.size()));
  if (!out.empty()) std::memcpy(out.data(), iscrowd.data(), out.size());
  if (out.size() != n)
    throw py::value_error("iscrowd has " + std::to_string(out.size()) + " entries for " + std::to_string(n) +
                          " ground truths (pycocotools reads past its end)");
  return out;
}

py::object iou_rle(py::handle dt_objs, py::handle gt_objs, py::array_t<uint8_t, py::array::forcecast> iscrowd) {
  std::vector<mask::Rle> dt = rles_from_py(dt_objs), gt = rles_from_py(gt_objs);
  if (dt.empty() || gt.empty()) return py::list();
  std::vector<uint8_t> crowd = crowd_flags(iscrowd, gt.size());
  std::vector<double> out(dt.size() * gt.size());
  {
    py::gil_scoped_release nogil;
    mask::iou(dt, gt, crowd, out.data());
  }
  return iou_matrix(dt.size(), gt.size(), out);
}

std::vector<mask::Box> boxes(py::array_t<double, py::array::c_style | py::array::forcecast> a) {
  if (a.ndim() != 2 || a.shape(1) != 4)
    throw py::value_error("numpy ndarray input is only for *bounding boxes* and should have Nx4 dimension");
  std::vector<mask::Box> out(static_cast<size_t>(a.shape(0)));
  auto v = a.unchecked<2>();
  for (py::ssize_t i = 0; i < a.shape(0); ++i)
    for (py::ssize_t j = 0; j < 4; ++j) out[static_cast<size_t>(i)][static_cast<size_t>(j)] = v(i, j);
  return out;
}

py::object iou_bbox(py::array_t<double, py::array::c_style | py::array::forcecast> dt_a,
                    py::array_t<double, py::array::c_style | py::array::forcecast> gt_a,
                    py::array_t<uint8_t, py::array::forcecast> iscrowd) {
  std::vector<mask::Box> dt = boxes(dt_a), gt = boxes(gt_a);
  if (dt.empty() || gt.empty()) return py::list();
  std::vector<uint8_t> crowd = crowd_flags(iscrowd, gt.size());
  std::vector<double> out(dt.size() * gt.size());
  mask::bbox_iou(dt, gt, crowd, out.data());
  return iou_matrix(dt.size(), gt.size(), out);
}

py::list fr_bbox(py::array_t<double, py::array::c_style | py::array::forcecast> bb, py::handle h, py::handle w) {
  std::vector<mask::Box> b = boxes(bb);
  uint32_t hh = mask_side(h, "h"), ww = mask_side(w, "w");
  std::vector<mask::Rle> rles(b.size());
  for (size_t i = 0; i < b.size(); ++i) rles[i] = mask::from_bbox(b[i], hh, ww);
  return to_py_list(rles);
}

// frPoly: each polygon is np.array(p, dtype=np.double) flattened; int(len(p)/2) vertices.
py::list fr_poly(py::sequence polys, py::handle h, py::handle w) {
  uint32_t hh = mask_side(h, "h"), ww = mask_side(w, "w");
  std::vector<mask::Rle> rles;
  rles.reserve(polys.size());
  for (py::handle p : polys) {
    auto arr = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(p);
    if (!arr) throw py::type_error("a polygon must be a sequence of numbers");
    std::vector<double> xy(arr.data(), arr.data() + arr.size());
    rles.push_back(mask::from_polygon(xy, hh, ww));
  }
  return to_py_list(rles);
}

// frUncompressedRLE for one object: counts already np.array(counts, dtype=np.uint32); no check that they sum to
// h*w (as pycocotools, which only re-encodes them).
py::dict fr_uncompressed(py::array_t<uint32_t, py::array::c_style | py::array::forcecast> counts, py::handle h,
                         py::handle w) {
  mask::Rle r;
  r.h = mask_side(h, "RLE size[0] (height)");
  r.w = mask_side(w, "RLE size[1] (width)");
  r.counts.assign(counts.data(), counts.data() + counts.size());
  return rle_to_py(r);
}

}  // namespace

void bind_mask(py::module_ m) {
  m.def("encode", &encode, py::arg("mask"), "rleEncode of an (h, w, n) uint8 Fortran-ordered array -> [RLE]");
  m.def("decode", &decode, py::arg("rles"), "rleDecode of [RLE] -> (h, w, n) uint8, Fortran order");
  m.def("area", &area, py::arg("rles"), "rleArea of [RLE] -> uint32 array (n,)");
  m.def("to_bbox", &to_bbox, py::arg("rles"), "rleToBbox of [RLE] -> float64 array (n, 4)");
  m.def("merge", &merge, py::arg("rles"), py::arg("intersect"), "rleMerge -> RLE");
  m.def("iou_rle", &iou_rle, py::arg("dt"), py::arg("gt"), py::arg("iscrowd"),
        "rleIou -> float64 (D, G) Fortran-ordered array, or [] when either side is empty");
  m.def("iou_bbox", &iou_bbox, py::arg("dt"), py::arg("gt"), py::arg("iscrowd"),
        "bbIou of (D, 4) and (G, 4) boxes -> float64 (D, G), or [] when either side is empty");
  m.def("fr_bbox", &fr_bbox, py::arg("bb"), py::arg("h"), py::arg("w"), "rleFrBbox of (n, 4) boxes -> [RLE]");
  m.def("fr_poly", &fr_poly, py::arg("polys"), py::arg("h"), py::arg("w"), "rleFrPoly of each polygon -> [RLE]");
  m.def("fr_uncompressed", &fr_uncompressed, py::arg("counts"), py::arg("h"), py::arg("w"),
        "an uncompressed RLE (uint32 counts) re-encoded -> RLE");
}

}  // namespace glamm::python
