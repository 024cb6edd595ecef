// glamm_eval._core.coco: COCOeval (pycocotools 2.0.6) on the annotations a Python COCO object holds. The Python
// side (python/glamm_eval/coco.py) selects the annotations exactly as COCOeval._prepare does (getAnnIds + loadAnns,
// in that order); this file turns them into metrics/mask records (annToRLE in C++, in parallel, without the GIL),
// runs mask::evaluate / mask::accumulate and hands the results back as pycocotools' Python structures.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "metrics/mask/cocoeval.h"
#include "metrics/mask/segmentation.h"
#include "metrics/parallel.h"
#include "eval/run_support.h"
#include "python/src/bindings.h"
#include "python/src/convert.h"

namespace py = pybind11;

namespace glamm::python {
namespace {

std::string describe(const char* side, py::handle ann) {
  std::string s = std::string(side) + " annotation";
  if (py::isinstance<py::dict>(ann)) {
    py::dict d = py::reinterpret_borrow<py::dict>(ann);
    if (d.contains("id")) s += " id " + py::str(d["id"]).cast<std::string>();
    if (d.contains("image_id")) s += " (image " + py::repr(d["image_id"]).cast<std::string>() + ")";
  }
  return s;
}

// `record` names the annotation in messages (a callable returning std::string: only formatted on error).
template <class Record>
std::vector<double> numbers(py::handle seq, const Record& record, const char* what) {
  if (!py::isinstance<py::sequence>(seq) && !py::isinstance<py::array>(seq))
    throw InputError("", record(), std::string(what) + " must be a list of numbers");
  std::vector<double> out;
  for (py::handle v : seq) {
    if (py::isinstance<py::bool_>(v) || !(PyNumber_Check(v.ptr())) || PyUnicode_Check(v.ptr()))
      throw InputError("", record(), std::string(what) + " must hold numbers, got " + py::repr(v).cast<std::string>());
    out.push_back(py::cast<double>(v));
  }
  return out;
}

// annToRLE's three forms read from Python (the RLE work itself happens later, without the GIL).
template <class Record>
mask::Segmentation read_segmentation(py::handle seg, const Record& record) {
  if (py::isinstance<py::list>(seg)) {
    mask::Polygons p;
    for (py::handle part : seg) p.parts.push_back(numbers(part, record, "a polygon"));
    return p;
  }
  if (py::isinstance<py::dict>(seg)) {
    py::object size = seg[py::str("size")];
    py::object counts = seg[py::str("counts")];
    uint32_t h = 0, w = 0;
    try {
      h = mask_side(size[py::int_(0)], "RLE size[0] (height)");
      w = mask_side(size[py::int_(1)], "RLE size[1] (width)");
    } catch (const py::builtin_exception& e) {
      throw InputError("", record(), e.what());
    }
    if (PyBytes_Check(counts.ptr()) || PyUnicode_Check(counts.ptr())) {
      mask::CompressedRle c{h, w, PyBytes_Check(counts.ptr()) ? std::string(py::bytes(counts)) : counts.cast<std::string>()};
      return c;
    }
    // frUncompressedRLE: np.array(counts, dtype=np.uint32).
    py::array_t<uint32_t> arr = py::module_::import("numpy").attr("array")(counts, "uint32");
    mask::UncompressedRle u{h, w, std::vector<uint32_t>(arr.data(), arr.data() + arr.size())};
    return u;
  }
  throw InputError("", record(), "segmentation must be a polygon list or an RLE dict, got " +
                                   py::str(py::type::handle_of(seg).attr("__name__")).cast<std::string>());
}

struct Side {
  const char* name = "";
  std::vector<mask::CocoInstance> instances;
  std::vector<std::optional<mask::Segmentation>> segs;  // segm only
  std::vector<std::pair<uint32_t, uint32_t>> sizes;     // image size for polygons
  std::vector<std::string> mask_errors;                 // filled by convert_masks (no Python calls there)
  py::sequence anns;                                    // for the record names of errors
};

// Field names looked up once per call rather than once per annotation.
struct Keys {
  py::str id{"id"}, image_id{"image_id"}, category_id{"category_id"}, area{"area"}, iscrowd{"iscrowd"},
      score{"score"}, bbox{"bbox"}, segmentation{"segmentation"}, height{"height"}, width{"width"};
};

// A field of an annotation as a C++ number, or an InputError naming the annotation and the field (pycocotools
// would fail with a TypeError or compare the value as it is).
template <class Record>
int64_t int_field(py::handle ann, const py::str& key, const Record& record) {
  py::object v = ann[key];
  if (py::isinstance<py::bool_>(v) || !(PyLong_Check(v.ptr()) || py::isinstance(v, py::module_::import("numpy").attr("integer"))))
    throw InputError("", record(), std::string(key) + " must be an integer, got " + py::repr(v).cast<std::string>());
  int overflow = 0;
  py::int_ i(v);
  long long x = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) throw InputError("", record(), std::string(key) + " is outside the 64-bit integer range");
  return x;
}

template <class Record>
double number_field(py::handle ann, const py::str& key, const Record& record) {
  py::object v = ann[key];
  if (py::isinstance<py::bool_>(v) || PyUnicode_Check(v.ptr()) || PyBytes_Check(v.ptr()) || !PyNumber_Check(v.ptr()) ||
      py::isinstance<py::sequence>(v))
    throw InputError("", record(), std::string(key) + " must be a number, got " + py::repr(v).cast<std::string>());
  PyObject* f = PyNumber_Float(v.ptr());
  if (!f) {
    PyErr_Clear();
    throw InputError("", record(), std::string(key) + " must be a number, got " + py::repr(v).cast<std::string>());
  }
  const double d = PyFloat_AsDouble(f);
  Py_DECREF(f);
  return d;
}

// One side (GT or DT) of COCOeval: `anns` as _prepare selected them, `imgs` the COCO object's imgs dict.
void read_side(py::sequence anns, py::dict imgs, bool is_gt, mask::IouType iou_type, mask::CocoGroundTruth& gt,
               std::unordered_map<ImageId, uint32_t>& image_index, Side& side) {
  side.name = is_gt ? "cocoGt" : "cocoDt";
  side.anns = anns;
  const Keys key;
  side.instances.reserve(anns.size());
  for (py::handle ann : anns) {
    auto record = [&] { return describe(side.name, ann); };
    mask::CocoInstance inst;
    ImageId image;
    try {
      image = image_id_from_py(ann[key.image_id]);
    } catch (const py::builtin_exception& e) {
      throw InputError("", record(), e.what());
    }
    auto it = image_index.find(image);
    if (it == image_index.end()) {
      it = image_index.emplace(image, static_cast<uint32_t>(gt.images.size())).first;
      gt.images.push_back(mask::CocoImage{image, 0, 0});
    }
    inst.image = it->second;
    inst.id = int_field(ann, key.id, record);
    inst.category_id = int_field(ann, key.category_id, record);
    inst.area = number_field(ann, key.area, record);
    if (is_gt) {
      // _prepare: ignore := 'iscrowd' in gt and gt['iscrowd']; computeIoU reads int(o['iscrowd']).
      int has = PySequence_Contains(ann.ptr(), key.iscrowd.ptr());
      if (has < 0) throw py::error_already_set();
      inst.iscrowd = has && py::bool_(ann[key.iscrowd]);
    } else {
      inst.score = number_field(ann, key.score, record);
    }
    if (iou_type == mask::IouType::kBbox) {
      std::vector<double> b = numbers(ann[key.bbox], record, "bbox");
      if (b.size() != 4) throw InputError("", record(), "bbox must have 4 numbers [x, y, w, h]");
      inst.box = {b[0], b[1], b[2], b[3]};
      side.segs.emplace_back();
      side.sizes.emplace_back(0, 0);
    } else {
      py::object seg = ann[key.segmentation];
      uint32_t h = 0, w = 0;
      if (py::isinstance<py::list>(seg)) {  // annToRLE: t = self.imgs[ann['image_id']]
        py::object t = imgs[ann[key.image_id]];
        try {
          h = mask_side(t[key.height], "image height");
          w = mask_side(t[key.width], "image width");
        } catch (const py::builtin_exception& e) {
          throw InputError("", record(), std::string("its image's ") + e.what());
        }
      }
      side.segs.emplace_back(read_segmentation(seg, record));
      side.sizes.emplace_back(h, w);
    }
    side.instances.push_back(std::move(inst));
  }
}

// annToRLE of every annotation (no Python calls: runs without the GIL). The first failing annotation's message
// is kept in mask_errors; raise_mask_error() turns it into an InputError once the GIL is held again.
void convert_masks(Side& side, int threads) {
  side.mask_errors.assign(side.instances.size(), std::string());
  metrics::parallel_for(side.instances.size(), threads, [&](std::size_t j) {
    if (!side.segs[j]) return;
    try {
      side.instances[j].rle = mask::to_rle(*side.segs[j], side.sizes[j].first, side.sizes[j].second);
    } catch (const mask::RleError& e) {
      side.mask_errors[j] = e.what();
    }
    side.segs[j].reset();
  });
}

void raise_mask_error(const Side& side) {
  for (std::size_t j = 0; j < side.mask_errors.size(); ++j)
    if (!side.mask_errors[j].empty()) throw InputError("", describe(side.name, side.anns[j]), side.mask_errors[j]);
}

mask::IouType parse_iou_type(const std::string& s) {
  if (s == "segm") return mask::IouType::kSegm;
  if (s == "bbox") return mask::IouType::kBbox;
  throw py::value_error("iouType '" + s + "' is not supported by glamm_eval (segm or bbox; keypoints is not "
                        "implemented)");
}

/// What COCOeval.evaluate() produced, kept in C++; the Python structures (ious, evalImgs) are built on demand.
class Evaluation {
 public:
  Evaluation(mask::CocoEvaluation ev, int threads) : ev_(std::move(ev)), threads_(threads) {}

  // self.ious: {(imgId, catId): D x G float64 (Fortran order) or []}, keys from the given Python lists (in
  // p.imgIds / catIds order).
  py::dict ious(py::sequence img_keys, py::sequence cat_keys) const {
    py::dict out;
    const std::size_t I = ev_.num_images(), K = ev_.eval_cat_ids.size();
    check_keys(img_keys, cat_keys);
    for (std::size_t i = 0; i < I; ++i)
      for (std::size_t k = 0; k < K; ++k) {
        py::tuple key = py::make_tuple(img_keys[i], cat_keys[k]);
        const mask::CocoIouMatrix* m = ev_.ious(k, i);
        if (!m || m->values.empty()) {
          out[key] = py::list();
          continue;
        }
        const std::size_t D = m->dt_ids.size(), G = m->gt_ids.size();
        py::array_t<double, py::array::f_style> a({D, G});
        auto v = a.mutable_unchecked<2>();
        for (std::size_t d = 0; d < D; ++d)
          for (std::size_t g = 0; g < G; ++g)
            v(static_cast<py::ssize_t>(d), static_cast<py::ssize_t>(g)) = m->values[d * G + g];
        out[key] = a;
      }
    return out;
  }

  // self.evalImgs: K*A*I entries in (category, area, image) order, a dict or None each.
  py::list eval_imgs(py::sequence img_keys, py::sequence cat_keys, py::sequence area_rngs, py::object max_det) const {
    check_keys(img_keys, cat_keys);
    const std::size_t I = ev_.num_images(), K = ev_.eval_cat_ids.size(), A = ev_.params.area_rng.size();
    const std::size_t T = ev_.params.iou_thrs.size();
    py::list out(K * A * I);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t a = 0; a < A; ++a)
        for (std::size_t i = 0; i < I; ++i) {
          const mask::CocoImageEval* e = ev_.eval_img(k, a, i);
          std::size_t pos = (k * A + a) * I + i;
          if (!e) {
            out[pos] = py::none();
            continue;
          }
          const std::size_t D = e->dt_ids.size(), G = e->gt_ids.size();
          py::dict d;
          d["image_id"] = img_keys[i];
          d["category_id"] = cat_keys[k];
          d["aRng"] = area_rngs[a];
          d["maxDet"] = max_det;
          d["dtIds"] = py::cast(e->dt_ids);
          d["gtIds"] = py::cast(e->gt_ids);
          py::array_t<double> dtm({T, D}), gtm({T, G});
          py::array_t<bool> dtig({T, D});
          for (std::size_t t = 0; t < T; ++t) {
            for (std::size_t j = 0; j < D; ++j) {
              dtm.mutable_at(t, j) = static_cast<double>(e->dt_matches[t * D + j]);
              dtig.mutable_at(t, j) = e->dt_ignore[t * D + j] != 0;
            }
            for (std::size_t j = 0; j < G; ++j) gtm.mutable_at(t, j) = static_cast<double>(e->gt_matches[t * G + j]);
          }
          d["dtMatches"] = dtm;
          d["gtMatches"] = gtm;
          d["dtScores"] = py::cast(e->dt_scores);
          if (G == 0) {
            d["gtIgnore"] = py::array_t<double>(0);  // np.array([]) is float64
          } else {
            py::array_t<int64_t> gig(static_cast<py::ssize_t>(G));
            for (std::size_t j = 0; j < G; ++j) gig.mutable_at(j) = e->gt_ignore[j];
            d["gtIgnore"] = gig;
          }
          d["dtIgnore"] = dtig;
          out[pos] = d;
        }
    return out;
  }

  // accumulate(): (precision [T,R,K,A,M], recall [T,K,A,M], scores [T,R,K,A,M]) as float64 arrays. With
  // `eval_imgs` (the evalImgs list once it was handed to Python, perhaps edited there) the per-image results are
  // read back from it, as pycocotools' accumulate reads self.evalImgs: dtScores, dtMatches (matched = nonzero),
  // dtIgnore and gtIgnore of every non-None entry.
  py::tuple accumulate(py::object eval_imgs) {
    mask::CocoAccumulation acc;
    if (eval_imgs.is_none()) {
      py::gil_scoped_release nogil;
      acc = mask::accumulate(ev_, threads_);
    } else {
      mask::CocoEvaluation ev = with_eval_imgs(eval_imgs);
      py::gil_scoped_release nogil;
      acc = mask::accumulate(ev, threads_);
    }
    std::vector<py::ssize_t> s5 = {py::ssize_t(acc.T), py::ssize_t(acc.R), py::ssize_t(acc.K), py::ssize_t(acc.A),
                                   py::ssize_t(acc.M)};
    std::vector<py::ssize_t> s4 = {py::ssize_t(acc.T), py::ssize_t(acc.K), py::ssize_t(acc.A), py::ssize_t(acc.M)};
    py::array_t<double> precision(s5), scores(s5), recall(s4);
    std::copy(acc.precision.begin(), acc.precision.end(), precision.mutable_data());
    std::copy(acc.scores.begin(), acc.scores.end(), scores.mutable_data());
    std::copy(acc.recall.begin(), acc.recall.end(), recall.mutable_data());
    return py::make_tuple(precision, recall, scores);
  }

  // A copy of the evaluation whose per-image results are those of the Python evalImgs list.
  mask::CocoEvaluation with_eval_imgs(py::handle eval_imgs) const {
    const std::size_t I = ev_.num_images(), K = ev_.eval_cat_ids.size(), A = ev_.params.area_rng.size();
    const std::size_t T = ev_.params.iou_thrs.size();
    py::sequence list = py::reinterpret_borrow<py::sequence>(eval_imgs);
    if (list.size() != K * A * I)
      throw py::value_error("evalImgs has " + std::to_string(list.size()) + " entries; evaluate() made " +
                            std::to_string(K * A * I) + " (categories x area ranges x images)");
    mask::CocoEvaluation ev = ev_;
    ev.slot_ious.clear();  // not read by accumulate
    auto as_array = [](py::handle v) {
      return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(v);
    };
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t i = 0; i < I; ++i) {
        const std::int32_t slot = ev.cell_slot[k * I + i];
        for (std::size_t a = 0; a < A; ++a) {
          const std::size_t pos = (k * A + a) * I + i;
          py::handle e = list[pos];
          if (slot < 0) {
            if (!e.is_none())
              throw py::value_error("evalImgs[" + std::to_string(pos) + "] is not None, but evaluate() found no "
                                    "ground truth or detection there; glamm_eval cannot accumulate an entry it "
                                    "did not evaluate");
            continue;
          }
          mask::CocoImageEval& out = ev.slot_evals[static_cast<std::size_t>(slot) * A + a];
          if (e.is_none()) {  // skipped, as pycocotools skips None entries
            out = mask::CocoImageEval();
            continue;
          }
          const std::string where = "evalImgs[" + std::to_string(pos) + "]";
          std::vector<double> scores = py::cast<std::vector<double>>(e[py::str("dtScores")]);
          auto dtm = as_array(e[py::str("dtMatches")]), dtig = as_array(e[py::str("dtIgnore")]),
               gtig = as_array(e[py::str("gtIgnore")]);
          if (!dtm || !dtig || !gtig) throw py::value_error(where + ": dtMatches/dtIgnore/gtIgnore must be arrays");
          const std::size_t D = scores.size();
          if (static_cast<std::size_t>(dtm.size()) != T * D || static_cast<std::size_t>(dtig.size()) != T * D)
            throw py::value_error(where + ": dtMatches and dtIgnore must be T x D = " + std::to_string(T) + " x " +
                                  std::to_string(D) + " (D = len(dtScores))");
          out.dt_scores = scores;
          out.dt_ids.assign(D, 0);
          out.dt_matches.resize(T * D);
          out.dt_matched.resize(T * D);
          out.dt_ignore.resize(T * D);
          for (std::size_t q = 0; q < T * D; ++q) {
            out.dt_matched[q] = dtm.data()[q] != 0;
            out.dt_ignore[q] = dtig.data()[q] != 0;
          }
          out.gt_ignore.resize(static_cast<std::size_t>(gtig.size()));
          for (std::size_t g = 0; g < out.gt_ignore.size(); ++g) out.gt_ignore[g] = gtig.data()[g] != 0;
        }
      }
    return ev;
  }

  std::size_t num_images() const { return ev_.num_images(); }
  std::size_t num_categories() const { return ev_.eval_cat_ids.size(); }

 private:
  void check_keys(const py::sequence& img_keys, const py::sequence& cat_keys) const {
    if (img_keys.size() != ev_.num_images() || cat_keys.size() != ev_.eval_cat_ids.size())
      throw py::value_error("evaluation keys do not match the evaluated image and category lists");
  }
  mask::CocoEvaluation ev_;
  int threads_ = 1;
};

std::unique_ptr<Evaluation> evaluate(py::sequence gts, py::sequence dts, py::dict gt_imgs, py::dict dt_imgs,
                                     py::sequence img_ids, py::sequence cat_ids, std::vector<double> iou_thrs,
                                     std::vector<double> rec_thrs, std::vector<int> max_dets,
                                     std::vector<std::array<double, 2>> area_rng, std::vector<std::string> area_lbl,
                                     bool use_cats, const std::string& iou_type, int threads) {
  threads = cli::resolve_thread_count(threads);
  mask::CocoParams p;
  p.iou_type = parse_iou_type(iou_type);
  for (py::handle id : img_ids) p.img_ids.push_back(image_id_from_py(id));
  for (py::handle c : cat_ids) p.cat_ids.push_back(py::cast<int64_t>(c));
  p.iou_thrs = std::move(iou_thrs);
  p.rec_thrs = std::move(rec_thrs);
  p.max_dets = std::move(max_dets);
  p.area_rng = std::move(area_rng);
  p.area_rng_lbl = std::move(area_lbl);
  p.use_cats = use_cats;

  mask::CocoGroundTruth gt;
  std::unordered_map<ImageId, uint32_t> image_index;
  for (const ImageId& id : p.img_ids)
    if (image_index.emplace(id, static_cast<uint32_t>(gt.images.size())).second)
      gt.images.push_back(mask::CocoImage{id, 0, 0});
  gt.category_ids = p.cat_ids;
  Side gside, dside;
  read_side(gts, gt_imgs, true, p.iou_type, gt, image_index, gside);
  read_side(dts, dt_imgs, false, p.iou_type, gt, image_index, dside);

  mask::CocoEvaluation ev;
  {
    py::gil_scoped_release nogil;
    convert_masks(gside, threads);
    convert_masks(dside, threads);
    bool failed = false;
    for (const Side* side : {&gside, &dside})
      for (const auto& e : side->mask_errors) failed = failed || !e.empty();
    if (failed) {
      py::gil_scoped_acquire gil;
      raise_mask_error(gside);
      raise_mask_error(dside);
    }
    gt.annotations = std::move(gside.instances);
    mask::CocoDetections dt;
    dt.results = std::move(dside.instances);
    ev = mask::evaluate(gt, dt, p, threads);
  }
  return std::make_unique<Evaluation>(std::move(ev), threads);
}

}  // namespace

void bind_coco(py::module_ m) {
  py::class_<Evaluation>(m, "Evaluation", "COCOeval.evaluate()'s results, kept in C++")
      .def("ious", &Evaluation::ious, py::arg("img_keys"), py::arg("cat_keys"))
      .def("eval_imgs", &Evaluation::eval_imgs, py::arg("img_keys"), py::arg("cat_keys"), py::arg("area_rngs"),
           py::arg("max_det"))
      .def("accumulate", &Evaluation::accumulate, py::arg("eval_imgs") = py::none())
      .def_property_readonly("num_images", &Evaluation::num_images)
      .def_property_readonly("num_categories", &Evaluation::num_categories);
  m.def("evaluate", &evaluate, py::arg("gts"), py::arg("dts"), py::arg("gt_imgs"), py::arg("dt_imgs"),
        py::arg("img_ids"), py::arg("cat_ids"), py::arg("iou_thrs"), py::arg("rec_thrs"), py::arg("max_dets"),
        py::arg("area_rng"), py::arg("area_lbl"), py::arg("use_cats"), py::arg("iou_type"), py::arg("threads"),
        "COCOeval.evaluate() on the annotations _prepare selected (metrics/mask/cocoeval.h)");
  m.def("linspace", &mask::numpy_linspace, py::arg("start"), py::arg("stop"), py::arg("num"));
}

}  // namespace glamm::python
