#include "python/src/bindings.h"

namespace glamm::python {
void bind_caption(pybind11::module_ m) { (void)m; }
}  // namespace glamm::python
