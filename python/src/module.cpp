// glamm_eval._core: the extension module behind the Python package (python/glamm_eval). Each area binds its own
// submodule (bind_mask, bind_coco, bind_caption, bind_tasks); this file registers them and the exception mapping:
//   glamm::InputError       -> glamm_eval.InputError (a ValueError subclass; attributes file, record, message)
//   mask::RleError, std::invalid_argument -> ValueError
//   std::bad_alloc -> MemoryError; any other C++ exception -> RuntimeError (pybind11's defaults)
#include <pybind11/pybind11.h>

#include "common/error.h"
#include "metrics/mask/rle.h"
#include "python/src/bindings.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "glamm-eval's C++ core (metrics, readers, task evaluators); use the glamm_eval package, not this module";
  m.attr("__version__") = GLAMM_VERSION;

  static py::exception<glamm::InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const glamm::InputError& e) {
      py::object err = py::handle(input_error.ptr())(e.what());
      err.attr("file") = e.file().empty() ? py::object(py::none()) : py::object(py::str(e.file()));
      err.attr("record") = e.record().empty() ? py::object(py::none()) : py::object(py::str(e.record()));
      err.attr("message") = py::str(e.message());
      PyErr_SetObject(input_error.ptr(), err.ptr());
    } catch (const glamm::mask::RleError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  glamm::python::bind_mask(m.def_submodule("mask", "COCO RLE masks (pycocotools.mask semantics)"));
  glamm::python::bind_coco(m.def_submodule("coco", "COCOeval on plain records (pycocotools 2.0.6)"));
  glamm::python::bind_caption(m.def_submodule("caption", "caption metrics (pycocoevalcap)"));
  glamm::python::bind_tasks(m.def_submodule("tasks", "the GLaMM task evaluators"));
}
