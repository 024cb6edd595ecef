// The submodules of glamm_eval._core, one binding file per area (python/src/<area>.cpp).
#pragma once
#include <pybind11/pybind11.h>

namespace glamm::python {

void bind_mask(pybind11::module_ m);     // python/src/mask.cpp
void bind_coco(pybind11::module_ m);     // python/src/coco.cpp
void bind_caption(pybind11::module_ m);  // python/src/caption.cpp
void bind_tasks(pybind11::module_ m);    // python/src/tasks.cpp

}  // namespace glamm::python
