// Conversions between Python objects and the C++ records, shared by the binding files.
//
// RLE objects follow pycocotools: a dict {'size': [h, w], 'counts': bytes | str} (compressed); what encode/merge
// return carries `counts` as bytes, as pycocotools' _toString does.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/image_id.h"
#include "metrics/mask/rle.h"

namespace glamm::python {

/// One mask side as pycocotools converts `size[i]` to its C type: a Python int, or a float/NumPy number holding
/// an integer, in [0, 2^32-1]. Throws ValueError naming `what` otherwise.
uint32_t mask_side(pybind11::handle v, const char* what);

/// pycocotools' _frString for one object: obj['size'][0], obj['size'][1] and obj['counts'] (bytes or str) parsed
/// with mask::from_string. Throws ValueError (KeyError/TypeError as Python raises them for a missing key or a
/// non-subscriptable object).
mask::Rle rle_from_py(pybind11::handle obj);

/// _frString over a sequence of RLE dicts.
std::vector<mask::Rle> rles_from_py(pybind11::handle seq);

/// pycocotools' _toString for one RLE: {'size': [h, w], 'counts': bytes}.
pybind11::dict rle_to_py(const mask::Rle& r);

/// An image id: a Python int (or NumPy integer) → integer id, a str → string id; anything else TypeError.
ImageId image_id_from_py(pybind11::handle v);
/// The Python value of an id (int or str).
pybind11::object image_id_to_py(const ImageId& id);

}  // namespace glamm::python
