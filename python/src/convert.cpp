#include "python/src/convert.h"

#include <cmath>
#include <string_view>

namespace py = pybind11;

namespace glamm::python {

uint32_t mask_side(py::handle v, const char* what) {
  if (py::isinstance<py::bool_>(v)) throw py::type_error(std::string(what) + " must be an integer, got a bool");
  double d = 0;
  if (PyLong_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("integer"))) {
    py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Long(v.ptr()));
    if (!i) throw py::error_already_set();
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow || x < 0 || x > 0xFFFFFFFFll)
      throw py::value_error(std::string(what) + " must be in [0, 2^32-1], got " + py::str(v).cast<std::string>());
    return static_cast<uint32_t>(x);
  }
  if (PyFloat_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("floating"))) {
    d = py::cast<double>(v);
    if (!std::isfinite(d) || d != std::floor(d) || d < 0 || d > 4294967295.0)
      throw py::value_error(std::string(what) + " must be an integer in [0, 2^32-1], got " +
                            py::str(v).cast<std::string>());
    return static_cast<uint32_t>(d);
  }
  throw py::type_error(std::string(what) + " must be an integer, got " +
                       py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>());
}

mask::Rle rle_from_py(py::handle obj) {
  py::object size = obj[py::str("size")];
  py::object counts = obj[py::str("counts")];
  uint32_t h = mask_side(size[py::int_(0)], "RLE size[0] (height)");
  uint32_t w = mask_side(size[py::int_(1)], "RLE size[1] (width)");
  std::string_view s;
  std::string holder;
  if (PyBytes_Check(counts.ptr())) {
    char* data = nullptr;
    Py_ssize_t n = 0;
    PyBytes_AsStringAndSize(counts.ptr(), &data, &n);
    s = std::string_view(data, static_cast<size_t>(n));
  } else if (PyUnicode_Check(counts.ptr())) {
    holder = counts.cast<std::string>();
    s = holder;
  } else {
    throw py::type_error("RLE counts must be bytes or str (a compressed RLE); an uncompressed RLE (a list of counts) "
                         "goes through frPyObjects first");
  }
  return mask::from_string(s, h, w);
}

std::vector<mask::Rle> rles_from_py(py::handle seq) {
  std::vector<mask::Rle> out;
  py::sequence items = py::reinterpret_borrow<py::sequence>(seq);
  out.reserve(items.size());
  for (py::handle obj : items) out.push_back(rle_from_py(obj));
  return out;
}

py::dict rle_to_py(const mask::Rle& r) {
  py::dict d;
  py::list size;
  size.append(py::int_(r.h));
  size.append(py::int_(r.w));
  d["size"] = size;
  d["counts"] = py::bytes(mask::to_string(r));
  return d;
}

ImageId image_id_from_py(py::handle v) {
  if (PyUnicode_Check(v.ptr())) return ImageId(v.cast<std::string>());
  if (!py::isinstance<py::bool_>(v)) {
    if (PyLong_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("integer"))) {
      int overflow = 0;
      py::int_ i(py::reinterpret_borrow<py::object>(v));
      long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
      if (!overflow) return ImageId(static_cast<std::int64_t>(x));
      throw py::value_error("image id " + py::str(v).cast<std::string>() + " is outside the 64-bit integer range");
    }
    // 42.0 is the same dict key as 42 in Python (pycocotools matches them): an integral float is that integer id.
    if (PyFloat_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("floating"))) {
      const double d = py::cast<double>(v);
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) return ImageId(static_cast<std::int64_t>(d));
      throw py::type_error("image id " + py::repr(v).cast<std::string>() +
                           " is a float that is not an integer (glamm_eval takes int or str image ids)");
    }
  }
  throw py::type_error("image ids must be int or str, got " +
                       py::str(py::type::handle_of(v).attr("__name__")).cast<std::string>());
}

py::object image_id_to_py(const ImageId& id) {
  if (id.is_string) return py::str(id.text);
  return py::int_(id.number);
}

}  // namespace glamm::python
