// COCOeval (segm / bbox), reimplementing pycocotools 2.0.6 cocoeval.py. See cocoeval.h for index orders.
#include "metrics/mask/cocoeval.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <mutex>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "metrics/numeric.h"
#include "metrics/parallel.h"

namespace glamm::mask {


const char* iou_type_name(IouType t) { return t == IouType::kSegm ? "segm" : "bbox"; }

std::vector<double> numpy_linspace(double start, double stop, int num) {
  std::vector<double> y(static_cast<std::size_t>(std::max(num, 0)));
  if (num <= 0) return y;
  const int div = num - 1;
  const double delta = stop - start;
  if (div > 0) {
    const double step = delta / div;
    for (int i = 0; i < num; ++i) {
      // NumPy: y = arange(num) * step (or (arange/div)*delta when step == 0), then y += start.
      double v = step == 0 ? (static_cast<double>(i) / div) * delta : static_cast<double>(i) * step;
      y[static_cast<std::size_t>(i)] = v + start;
    }
    y.back() = stop;
  } else {
    y[0] = start;
  }
  return y;
}

CocoParams default_params(const CocoGroundTruth& gt, IouType iou_type) {
  CocoParams p;
  p.iou_type = iou_type;
  for (const auto& im : gt.images) p.img_ids.push_back(im.id);
  std::sort(p.img_ids.begin(), p.img_ids.end());
  p.cat_ids = gt.category_ids;
  std::sort(p.cat_ids.begin(), p.cat_ids.end());
  // Params.setDetParams: int(np.round((0.95 - .5) / .05)) + 1 = 10 and int(np.round(1.00 / .01)) + 1 = 101.
  p.iou_thrs = numpy_linspace(.5, 0.95, 10);
  p.rec_thrs = numpy_linspace(.0, 1.00, 101);
  p.max_dets = {1, 10, 100};
  p.area_rng = {{0, 1e10}, {0, 32.0 * 32}, {32.0 * 32, 96.0 * 96}, {96.0 * 96, 1e10}};
  p.area_rng_lbl = {"all", "small", "medium", "large"};
  p.use_cats = true;
  return p;
}

namespace {

template <class T>
void unique_sort(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

/// True when score a sorts before score b in np.argsort(-score) (NaN last, as NumPy sorts NaN to the end).
inline bool score_before(double a, double b) {
  const double ka = -a, kb = -b;
  if (std::isnan(kb)) return !std::isnan(ka);
  return ka < kb;
}

/// A stable sort of [first, last) by `less` (std::stable_sort's order) that allocates nothing for short ranges:
/// insertion sort up to 32 elements (a few detections per image is the common case), std::stable_sort beyond.
template <class It, class Less>
void stable_sort_small(It first, It last, Less less) {
  if (last - first > 32) {
    std::stable_sort(first, last, less);
    return;
  }
  for (It i = first + (first != last); i < last; ++i) {
    auto v = std::move(*i);
    It j = i;
    for (; j != first && less(v, *(j - 1)); --j) *j = std::move(*(j - 1));
    *j = std::move(v);
  }
}

/// np.argsort(-score, kind='mergesort') order of `idx` (stable; NaN scores last).
void sort_by_score(std::vector<uint32_t>& idx, const std::vector<CocoInstance>& inst) {
  stable_sort_small(idx.begin(), idx.end(),
                    [&](uint32_t a, uint32_t b) { return score_before(inst[a].score, inst[b].score); });
}

/// CSR lists of instance indices per eval cell (image position i, eval category k), in _prepare + computeIoU
/// order: cell (i, k) = self._gts[imgId, catId] (useCats) or the concatenation over p.catIds (no cats).
struct Cells {
  std::vector<uint32_t> offsets;  // [I*K + 1]
  std::vector<uint32_t> items;
  std::size_t size(std::size_t c) const { return offsets[c + 1] - offsets[c]; }
  const uint32_t* begin(std::size_t c) const { return items.data() + offsets[c]; }
};

Cells build_cells(const std::vector<CocoInstance>& inst, const std::vector<uint32_t>& load_index,
                  std::size_t num_images, const std::vector<int32_t>& pos_of_image, const CocoParams& p,
                  std::size_t K) {
  const std::size_t I = p.img_ids.size();
  // imgToAnns: per GT image index, annotation indices in file order.
  std::vector<uint32_t> img_off(num_images + 1, 0);
  for (const auto& a : inst) ++img_off[a.image + 1];
  for (std::size_t i = 0; i < num_images; ++i) img_off[i + 1] += img_off[i];
  std::vector<uint32_t> img_items(inst.size());
  {
    std::vector<uint32_t> fill(img_off.begin(), img_off.end() - 1);
    for (uint32_t j = 0; j < inst.size(); ++j) img_items[fill[inst[j].image]++] = j;
  }
  // Category -> slot: eval category k (useCats) or distinct member of p.catIds (no cats).
  std::vector<int64_t> slot_cats;
  if (p.use_cats) {
    slot_cats = p.cat_ids;  // already unique + sorted
  } else {
    for (int64_t c : p.cat_ids)
      if (std::find(slot_cats.begin(), slot_cats.end(), c) == slot_cats.end()) slot_cats.push_back(c);
  }
  std::unordered_map<int64_t, uint32_t> slot_of;
  for (uint32_t s = 0; s < slot_cats.size(); ++s) slot_of.emplace(slot_cats[s], s);
  const std::size_t S = slot_cats.size();

  // getAnnIds(imgIds=p.imgIds[, catIds=p.catIds]) then loadAnns: selection in image order, file order within.
  // The category filter applies to the hit; grouping uses the loaded annotation (they differ only for
  // duplicated ids). Hits whose group is never looked up are dropped.
  std::vector<std::pair<uint32_t, uint32_t>> hits;  // (cell = pos * S + slot, instance)
  hits.reserve(inst.size());
  const bool filter = p.use_cats && !p.cat_ids.empty();
  std::vector<int32_t> image_of_pos(I, -1);
  for (std::size_t gi = 0; gi < num_images; ++gi)
    if (pos_of_image[gi] >= 0) image_of_pos[static_cast<std::size_t>(pos_of_image[gi])] = static_cast<int32_t>(gi);
  for (std::size_t i = 0; i < I; ++i) {
    if (image_of_pos[i] < 0) continue;
    const auto gi = static_cast<std::size_t>(image_of_pos[i]);
    for (uint32_t q = img_off[gi]; q < img_off[gi + 1]; ++q) {
      uint32_t j = img_items[q];
      if (filter && !std::binary_search(p.cat_ids.begin(), p.cat_ids.end(), inst[j].category_id)) continue;
      uint32_t loaded = load_index.empty() ? j : load_index[j];
      const CocoInstance& a = inst[loaded];
      int32_t pos = pos_of_image[a.image];
      auto it = slot_of.find(a.category_id);
      if (pos < 0 || it == slot_of.end()) continue;
      hits.emplace_back(static_cast<uint32_t>(static_cast<std::size_t>(pos) * S + it->second), loaded);
    }
  }
  // Stable counting sort into (pos, slot) groups.
  std::vector<uint32_t> goff(I * S + 1, 0);
  for (auto& h : hits) ++goff[h.first + 1];
  for (std::size_t c = 0; c < I * S; ++c) goff[c + 1] += goff[c];
  std::vector<uint32_t> gitems(hits.size());
  {
    std::vector<uint32_t> fill(goff.begin(), goff.end() - 1);
    for (auto& h : hits) gitems[fill[h.first]++] = h.second;
  }
  Cells cells;
  if (p.use_cats) {
    cells.offsets = std::move(goff);
    cells.items = std::move(gitems);
    return cells;
  }
  // No cats: one cell per image, the concatenation over p.catIds in their given order (duplicates repeat).
  (void)K;
  cells.offsets.assign(I + 1, 0);
  for (std::size_t i = 0; i < I; ++i) {
    for (int64_t c : p.cat_ids) {
      std::size_t g = i * S + slot_of[c];
      cells.items.insert(cells.items.end(), gitems.begin() + goff[g], gitems.begin() + goff[g + 1]);
    }
    cells.offsets[i + 1] = static_cast<uint32_t>(cells.items.size());
  }
  return cells;
}

/// Per-worker buffers of evaluate(), reused from image to image (no allocation once they have grown).
struct ImageScratch {
  std::vector<uint32_t> g_idx, d_idx, gtind, cand, cand_off;
  std::vector<const Rle*> g_rle, d_rle;
  std::vector<Box> g_box, d_box;
  std::vector<RleFacts> g_facts, d_facts;
  std::vector<uint8_t> crowd, ig;
};

/// evaluateImg for one area range, given the dts in score order (cut at maxDet) and computeIoU's matrix
/// (rows = dts in that order, columns = gts in cell order). Uses scratch.gtind, .ig and .crowd.
void evaluate_img(const std::vector<CocoInstance>& gts, const std::vector<uint32_t>& g_idx,
                  const std::vector<CocoInstance>& dts, const std::vector<uint32_t>& d_idx,
                  const std::vector<double>& ious, const CocoParams& p, const std::array<double, 2>& rng,
                  ImageScratch& scratch, CocoImageEval& out) {
  const std::size_t G = g_idx.size(), D = d_idx.size(), T = p.iou_thrs.size();
  std::vector<uint8_t>& ig = scratch.ig;
  ig.resize(G);
  for (std::size_t g = 0; g < G; ++g) {
    const CocoInstance& a = gts[g_idx[g]];
    ig[g] = (a.iscrowd || a.area < rng[0] || a.area > rng[1]) ? 1 : 0;
  }
  // np.argsort(_ignore, kind='mergesort'): non-ignored first, then ignored, each in cell order (a stable sort of
  // 0/1 keys).
  std::vector<uint32_t>& gtind = scratch.gtind;
  gtind.clear();
  for (uint32_t g = 0; g < G; ++g)
    if (!ig[g]) gtind.push_back(g);
  for (uint32_t g = 0; g < G; ++g)
    if (ig[g]) gtind.push_back(g);

  out.dt_ids.resize(D);
  out.dt_scores.resize(D);
  for (std::size_t d = 0; d < D; ++d) {
    out.dt_ids[d] = dts[d_idx[d]].id;
    out.dt_scores[d] = dts[d_idx[d]].score;
  }
  out.gt_ids.resize(G);
  out.gt_ignore.resize(G);
  std::vector<uint8_t>& crowd = scratch.crowd;
  crowd.resize(G);
  for (std::size_t g = 0; g < G; ++g) {
    const CocoInstance& a = gts[g_idx[gtind[g]]];
    out.gt_ids[g] = a.id;
    out.gt_ignore[g] = ig[gtind[g]];
    crowd[g] = a.iscrowd ? 1 : 0;
  }
  out.dt_matches.assign(T * D, 0);
  out.gt_matches.assign(T * G, 0);
  out.dt_matched.assign(T * D, 0);
  out.dt_ignore.assign(T * D, 0);
  if (G > 0 && D > 0) {
    // Candidates: per detection, the gts (gtind order) whose IoU is not below the lowest starting `best` of any
    // threshold. Any other gt fails `v < best` at every threshold (best starts at min(thr, 1-1e-10) and only grows)
    // and so never becomes the match; skipping it only defers the `break` test to the next candidate, which gives
    // the same result because the gts are ordered non-ignored first. A NaN IoU or threshold (a NaN `best` lets every
    // later gt through) keeps the detection's whole row.
    double floor = std::numeric_limits<double>::infinity();
    bool filter = true;
    for (std::size_t t = 0; t < T; ++t) {
      const double b = std::min(p.iou_thrs[t], 1 - 1e-10);
      if (std::isnan(b)) filter = false;
      floor = std::min(floor, b);
    }
    std::vector<uint32_t>& cand = scratch.cand;
    std::vector<uint32_t>& cand_off = scratch.cand_off;
    cand.clear();
    cand_off.resize(D + 1);
    cand_off[0] = 0;
    for (std::size_t d = 0; d < D; ++d) {
      const double* row = ious.data() + d * G;
      const std::size_t first = cand.size();
      bool whole_row = !filter;
      for (uint32_t g = 0; g < G; ++g) {
        const double v = row[gtind[g]];
        if (std::isnan(v)) whole_row = true;
        if (!(v < floor)) cand.push_back(g);
      }
      if (whole_row) {
        cand.resize(first);
        for (uint32_t g = 0; g < G; ++g) cand.push_back(g);
      }
      cand_off[d + 1] = static_cast<uint32_t>(cand.size());
    }
    for (std::size_t t = 0; t < T; ++t) {
      int64_t* gtm = out.gt_matches.data() + t * G;
      for (std::size_t d = 0; d < D; ++d) {
        const double* row = ious.data() + d * G;
        double best = std::min(p.iou_thrs[t], 1 - 1e-10);
        long m = -1;
        for (uint32_t c = cand_off[d]; c < cand_off[d + 1]; ++c) {
          const std::size_t g = cand[c];
          if (gtm[g] > 0 && !crowd[g]) continue;  // already matched, and not a crowd
          if (m > -1 && out.gt_ignore[static_cast<std::size_t>(m)] == 0 && out.gt_ignore[g] == 1) break;
          double v = row[gtind[g]];
          if (v < best) continue;
          best = v;  // >=: on ties the later gt wins
          m = static_cast<long>(g);
        }
        if (m == -1) continue;
        const auto mg = static_cast<std::size_t>(m);
        out.dt_ignore[t * D + d] = out.gt_ignore[mg];
        out.dt_matches[t * D + d] = out.gt_ids[mg];
        // 2.0.6 encodes "matched" as a nonzero id (docs/quirks.md q7); strict counts every match.
        out.dt_matched[t * D + d] = (p.strict_gt_id_zero || out.gt_ids[mg] != 0) ? 1 : 0;
        gtm[mg] = out.dt_ids[d];
      }
    }
  }
  // Unmatched detections outside the area range are ignored.
  for (std::size_t d = 0; d < D; ++d) {
    double a = dts[d_idx[d]].area;
    if (a < rng[0] || a > rng[1]) {
      for (std::size_t t = 0; t < T; ++t)
        if (!out.dt_matched[t * D + d]) out.dt_ignore[t * D + d] = 1;
    }
  }
}


}  // namespace

CocoEvaluation evaluate(const CocoGroundTruth& gt, const CocoDetections& dt, const CocoParams& params_in,
                        int threads) {
  CocoEvaluation ev;
  CocoParams& p = ev.params;
  p = params_in;
  if (p.iou_thrs.empty()) throw std::invalid_argument("COCOeval: iouThrs is empty");
  if (p.max_dets.empty()) throw std::invalid_argument("COCOeval: maxDets is empty");
  if (p.area_rng.empty()) throw std::invalid_argument("COCOeval: areaRng is empty");
  if (p.area_rng.size() != p.area_rng_lbl.size())
    throw std::invalid_argument("COCOeval: areaRng and areaRngLbl differ in length");
  for (std::size_t i = 1; i < p.img_ids.size(); ++i)
    if (p.img_ids[i].is_string != p.img_ids[0].is_string)
      throw std::invalid_argument("COCOeval: image ids mix integers and strings");
  unique_sort(p.img_ids);  // np.unique
  if (p.use_cats) unique_sort(p.cat_ids);
  std::sort(p.max_dets.begin(), p.max_dets.end());
  ev.eval_cat_ids = p.use_cats ? p.cat_ids : std::vector<int64_t>{-1};

  const std::size_t I = p.img_ids.size(), K = ev.eval_cat_ids.size(), A = p.area_rng.size();
  const std::size_t num_images = gt.images.size();
  // Position of each GT image in p.imgIds (-1 when not evaluated).
  std::vector<int32_t> pos_of_image(num_images, -1);
  for (std::size_t gi = 0; gi < num_images; ++gi) {
    auto it = std::lower_bound(p.img_ids.begin(), p.img_ids.end(), gt.images[gi].id);
    if (it != p.img_ids.end() && *it == gt.images[gi].id)
      pos_of_image[gi] = static_cast<int32_t>(it - p.img_ids.begin());
  }
  // The GT and results groupings are independent: one task each.
  Cells gcells, dcells;
  const std::vector<uint32_t> no_load_index;
  metrics::parallel_for(
      2, threads,
      [&](std::size_t side) {
        if (side == 0) gcells = build_cells(gt.annotations, gt.load_index, num_images, pos_of_image, p, K);
        else dcells = build_cells(dt.results, no_load_index, num_images, pos_of_image, p, K);
      },
      1);

  // Slots of the non-empty cells, assigned in (k, i) order before the parallel part.
  ev.cell_slot.assign(K * I, -1);
  int32_t slots = 0;
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t i = 0; i < I; ++i) {
      const std::size_t gcell = p.use_cats ? i * K + k : i;
      if (gcells.size(gcell) || dcells.size(gcell)) ev.cell_slot[k * I + i] = slots++;
    }
  ev.slot_ious.resize(static_cast<std::size_t>(slots));
  ev.slot_evals.resize(static_cast<std::size_t>(slots) * A);
  const int max_det = p.max_dets.back();
  // The output vectors are sized by the workers (evaluate_img): with a per-thread allocator (mimalloc in the
  // command line) that scales, where reserving them here, serially, was a quarter of this phase.
  const bool segm = p.iou_type == IouType::kSegm;

  std::vector<ImageScratch> scratch(static_cast<std::size_t>(metrics::parallel_workers(I, threads)));
  metrics::parallel_for(I, threads, [&](std::size_t i, int worker) {
    ImageScratch& sc = scratch[static_cast<std::size_t>(worker)];
    std::vector<uint32_t>& g_idx = sc.g_idx;
    std::vector<uint32_t>& d_idx = sc.d_idx;
    for (std::size_t k = 0; k < K; ++k) {
      const int32_t slot = ev.cell_slot[k * I + i];
      if (slot < 0) continue;  // computeIoU [] and evaluateImg None for every area
      const auto s = static_cast<std::size_t>(slot);
      const std::size_t gcell = p.use_cats ? i * K + k : i;
      g_idx.assign(gcells.begin(gcell), gcells.begin(gcell) + gcells.size(gcell));
      d_idx.assign(dcells.begin(gcell), dcells.begin(gcell) + dcells.size(gcell));
      // computeIoU: dts by -score (stable mergesort), cut at maxDets[-1]; gts in cell order.
      sort_by_score(d_idx, dt.results);
      if (max_det >= 0 && d_idx.size() > static_cast<std::size_t>(max_det)) d_idx.resize(static_cast<std::size_t>(max_det));
      CocoIouMatrix& mat = ev.slot_ious[s];
      const std::size_t D = d_idx.size(), G = g_idx.size();
      mat.dt_ids.resize(D);
      mat.gt_ids.resize(G);
      for (std::size_t d = 0; d < D; ++d) mat.dt_ids[d] = dt.results[d_idx[d]].id;
      for (std::size_t g = 0; g < G; ++g) mat.gt_ids[g] = gt.annotations[g_idx[g]].id;
      mat.values.assign(D * G, 0.0);
      if (D > 0 && G > 0) {
        sc.crowd.resize(G);
        for (std::size_t g = 0; g < G; ++g) sc.crowd[g] = gt.annotations[g_idx[g]].iscrowd ? 1 : 0;
        sc.g_box.resize(G);
        sc.d_box.resize(D);
        if (segm) {
          sc.g_rle.resize(G);
          sc.d_rle.resize(D);
          sc.g_facts.resize(G);
          sc.d_facts.resize(D);
          for (std::size_t g = 0; g < G; ++g) {
            const CocoInstance& a = gt.annotations[g_idx[g]];
            sc.g_rle[g] = &a.rle;
            sc.g_facts[g] = a.has_rle_facts ? a.rle_facts : rle_facts(a.rle);
          }
          for (std::size_t d = 0; d < D; ++d) {
            const CocoInstance& a = dt.results[d_idx[d]];
            sc.d_rle[d] = &a.rle;
            sc.d_facts[d] = a.has_rle_facts ? a.rle_facts : rle_facts(a.rle);
          }
          iou(sc.d_rle.data(), sc.d_facts.data(), D, sc.g_rle.data(), sc.g_facts.data(), G, sc.crowd.data(),
              mat.values.data());
        } else {
          for (std::size_t g = 0; g < G; ++g) sc.g_box[g] = gt.annotations[g_idx[g]].box;
          for (std::size_t d = 0; d < D; ++d) sc.d_box[d] = dt.results[d_idx[d]].box;
          bbox_iou(sc.d_box, sc.g_box, sc.crowd, mat.values.data());
        }
      }
      for (std::size_t a = 0; a < A; ++a)
        evaluate_img(gt.annotations, g_idx, dt.results, d_idx, mat.values, p, p.area_rng[a], sc,
                     ev.slot_evals[s * A + a]);
    }
  });
  return ev;
}

CocoAccumulation accumulate(const CocoEvaluation& ev, int threads) {
  const CocoParams& p = ev.params;
  CocoAccumulation acc;
  acc.T = p.iou_thrs.size();
  acc.R = p.rec_thrs.size();
  acc.K = ev.eval_cat_ids.size();
  acc.A = p.area_rng.size();
  acc.M = p.max_dets.size();
  const std::size_t T = acc.T, R = acc.R, K = acc.K, A = acc.A, M = acc.M, I = ev.num_images();
  acc.precision.assign(T * R * K * A * M, -1.0);
  acc.recall.assign(T * K * A * M, -1.0);
  acc.scores.assign(T * R * K * A * M, -1.0);

  // For one category the detections of an image (dtIds, dtScores) do not depend on the area range, and the
  // list for maxDet m is a subsequence of the one for maxDets[-1]. A stable sort keeps the relative order of any
  // two entries, so np.argsort(-dtScores, kind='mergesort') of every (a, m) list is the one stable sort per
  // category, filtered. Step 1 sorts per category, step 2 fills the (category, area) cells; both in parallel,
  // each index writing only its own entries, so the arrays do not depend on `threads`.
  struct Det {
    double score;
    uint32_t i;  // index in the concatenation (image order, then per-image order)
    uint32_t d;  // index in the image's score-sorted detections
  };
  struct Category {
    bool present = false;   // some evalImgs entry of the category is not None
    std::vector<Det> dets;  // sorted by -score (stable)
    std::vector<uint32_t> rank;  // concatenation index -> position in dets
    std::vector<uint32_t> images;  // positions i whose evalImgs entries are not None, ascending
  };
  std::vector<Category> cats(K);
  metrics::parallel_for(K, threads, [&](std::size_t k) {
    Category& c = cats[k];
    for (std::size_t i = 0; i < I; ++i) {
      const CocoImageEval* e = ev.eval_img(k, 0, i);
      if (!e) continue;
      c.present = true;
      c.images.push_back(static_cast<uint32_t>(i));
      for (std::size_t d = 0; d < e->dt_ids.size(); ++d)
        c.dets.push_back({e->dt_scores[d], static_cast<uint32_t>(c.dets.size()), static_cast<uint32_t>(d)});
    }
    if (!c.present) return;  // every evalImgs entry is None: precision/recall stay -1
    // Det::i holds the concatenation index here.
    std::stable_sort(c.dets.begin(), c.dets.end(),
                     [](const Det& x, const Det& y) { return score_before(x.score, y.score); });
    c.rank.resize(c.dets.size());
    for (std::size_t q = 0; q < c.dets.size(); ++q) c.rank[c.dets[q].i] = static_cast<uint32_t>(q);
  }, 1);

  struct Scratch {
    std::vector<uint8_t> status;    // [n][T] in sorted order: 0 ignored, 1 TP, 2 FP
    std::vector<double> tp, fp;     // [T] running counts
    std::vector<double> tps, fps, pr;  // [T][nd] cumulative TP and FP counts, precision
    std::vector<double> sorted_scores;
  };
  std::vector<Scratch> scratch(static_cast<std::size_t>(metrics::parallel_workers(K * A, threads, 1)));
  metrics::parallel_for(K * A, threads, [&](std::size_t ka, int worker) {
    const std::size_t k = ka / A, a = ka % A;
    const Category& cat = cats[k];
    if (!cat.present) return;
    const std::vector<Det>& dets = cat.dets;
    Scratch& sc = scratch[static_cast<std::size_t>(worker)];
    // TP/FP/ignored of every detection at every threshold, stored by sorted position; images read sequentially.
    const std::size_t n_all = dets.size();
    std::size_t npig = 0, c = 0;
    sc.status.assign(n_all * T, 0);
    const std::vector<uint32_t>& images = cat.images;
    for (std::size_t n = 0; n < images.size(); ++n) {
      const CocoImageEval* e = ev.eval_img(k, a, images[n]);
      // The records' arrays sit wherever evaluate()'s workers allocated them (image order): fetch the ones a few
      // images ahead while this one is read.
      if (n + 4 < images.size()) {
        const CocoImageEval* ahead = ev.eval_img(k, a, images[n + 4]);
        __builtin_prefetch(ahead->dt_ignore.data());
        __builtin_prefetch(ahead->dt_matched.data());
        __builtin_prefetch(ahead->gt_ignore.data());
      }
      if (n + 8 < images.size()) __builtin_prefetch(ev.eval_img(k, a, images[n + 8]));
      for (uint8_t g : e->gt_ignore) npig += (g == 0);
      const std::size_t D = e->dt_ids.size();
      for (std::size_t d = 0; d < D; ++d, ++c) {
        uint8_t* st = sc.status.data() + std::size_t{cat.rank[c]} * T;
        for (std::size_t t = 0; t < T; ++t) {  // ignored 0, else matched 1, else 2 (without branches)
          const std::size_t off = t * D + d;
          st[t] = static_cast<uint8_t>((e->dt_ignore[off] ^ 1) * (2 - e->dt_matched[off]));
        }
      }
    }
    if (npig == 0) return;
    const double np = static_cast<double>(npig);
    for (std::size_t m = 0; m < M; ++m) {
      // The sorted detections within the first maxDet of their image: cumulative TP/FP (np.cumsum) and
      // precision = tp / (fp + tp + eps) per threshold; recall = tp / npig is computed where it is read.
      const auto max_det = static_cast<uint32_t>(std::max(0, p.max_dets[m]));
      std::size_t nd = 0;
      for (const Det& x : dets) nd += x.d < max_det;
      sc.tp.assign(T, 0.0);
      sc.fp.assign(T, 0.0);
      sc.tps.resize(T * nd);
      sc.fps.resize(T * nd);
      sc.pr.resize(T * nd);
      sc.sorted_scores.resize(nd);
      std::size_t j = 0;
      for (std::size_t q = 0; q < n_all; ++q) {
        if (dets[q].d >= max_det) continue;
        const uint8_t* st = sc.status.data() + q * T;
        for (std::size_t t = 0; t < T; ++t) {
          sc.tp[t] += st[t] == 1;
          sc.fp[t] += st[t] == 2;
          sc.tps[t * nd + j] = sc.tp[t];
          sc.fps[t * nd + j] = sc.fp[t];
        }
        sc.sorted_scores[j++] = dets[q].score;
      }
      for (std::size_t t = 0; t < T; ++t) {
        const double* tps = sc.tps.data() + t * nd;
        const double* fps = sc.fps.data() + t * nd;
        double* pr = sc.pr.data() + t * nd;
        // Contiguous, so that the divisions vectorise; the same expression (tp / (fp + tp + eps)) per element.
        for (std::size_t q = 0; q < nd; ++q) pr[q] = tps[q] / (fps[q] + tps[q] + metrics::kNumpySpacing1);
        acc.recall[((t * K + k) * A + a) * M + m] = nd ? tps[nd - 1] / np : 0.0;
        // pr[q-1] = max(pr[q-1], pr[q]) from the right (cocoeval.py's loop); the values are finite and >= +0.
        for (std::size_t q = nd; q-- > 1;) pr[q - 1] = std::max(pr[q - 1], pr[q]);
        // searchsorted(rc, recThrs, 'left') on rc = tps / npig (non-decreasing); once past the end every later
        // threshold stays 0 (the IndexError that cocoeval.py catches).
        bool ended = false;
        for (std::size_t r = 0; r < R; ++r) {
          const std::size_t idx = (((t * R + r) * K + k) * A + a) * M + m;
          double q = 0, ss = 0;
          if (!ended) {
            const double thr = p.rec_thrs[r];
            const auto pi = static_cast<std::size_t>(
                std::partition_point(tps, tps + nd, [&](double v) { return v / np < thr; }) - tps);
            if (pi >= nd) {
              ended = true;
            } else {
              q = pr[pi];
              ss = sc.sorted_scores[pi];
            }
          }
          acc.precision[idx] = q;
          acc.scores[idx] = ss;
        }
      }
    }
  }, 1);
  return acc;
}

std::vector<CocoSummaryItem> summary_items(const CocoParams& p) {
  if (p.max_dets.size() < 3)
    throw std::invalid_argument("COCOeval summarize needs at least 3 maxDets (pycocotools reads maxDets[2])");
  std::vector<int> md = p.max_dets;
  std::sort(md.begin(), md.end());
  const int m0 = md[0], m1 = md[1], m2 = md[2];
  return {
      {true, -1, "all", 100},     {true, .5, "all", m2},     {true, .75, "all", m2},
      {true, -1, "small", m2},    {true, -1, "medium", m2},  {true, -1, "large", m2},
      {false, -1, "all", m0},     {false, -1, "all", m1},    {false, -1, "all", m2},
      {false, -1, "small", m2},   {false, -1, "medium", m2}, {false, -1, "large", m2},
  };
}

double summarize_one(const CocoAccumulation& acc, const CocoParams& p, const CocoSummaryItem& item) {
  std::vector<std::size_t> tsel;
  for (std::size_t t = 0; t < acc.T; ++t)
    if (item.iou_thr < 0 || p.iou_thrs[t] == item.iou_thr) tsel.push_back(t);
  std::vector<std::size_t> aind, mind;
  for (std::size_t a = 0; a < p.area_rng_lbl.size() && a < acc.A; ++a)
    if (p.area_rng_lbl[a] == item.area) aind.push_back(a);
  std::vector<int> md = p.max_dets;
  std::sort(md.begin(), md.end());
  for (std::size_t m = 0; m < md.size() && m < acc.M; ++m)
    if (md[m] == item.max_dets) mind.push_back(m);
  // s[:, :, :, aind, mind]: the two index lists broadcast together (NumPy advanced indexing).
  std::vector<std::pair<std::size_t, std::size_t>> am;
  if (aind.size() == mind.size()) {
    for (std::size_t j = 0; j < aind.size(); ++j) am.emplace_back(aind[j], mind[j]);
  } else if (aind.size() == 1) {
    for (std::size_t m : mind) am.emplace_back(aind[0], m);
  } else if (mind.size() == 1) {
    for (std::size_t a : aind) am.emplace_back(a, mind[0]);
  } else {
    throw std::invalid_argument("COCOeval summarize: area and maxDets selections cannot be broadcast together");
  }
  std::vector<double> vals;
  if (item.ap) {
    for (std::size_t t : tsel)
      for (std::size_t r = 0; r < acc.R; ++r)
        for (std::size_t k = 0; k < acc.K; ++k)
          for (auto [a, m] : am) {
            double v = acc.precision_at(t, r, k, a, m);
            if (v > -1) vals.push_back(v);
          }
  } else {
    for (std::size_t t : tsel)
      for (std::size_t k = 0; k < acc.K; ++k)
        for (auto [a, m] : am) {
          double v = acc.recall_at(t, k, a, m);
          if (v > -1) vals.push_back(v);
        }
  }
  if (vals.empty()) return -1;
  return metrics::numpy_mean(vals);
}

std::vector<double> summarize(const CocoAccumulation& acc, const CocoParams& p) {
  std::vector<double> stats;
  for (const auto& item : summary_items(p)) stats.push_back(summarize_one(acc, p, item));
  return stats;
}

std::string summary_line(const CocoParams& p, const CocoSummaryItem& item, double value) {
  const char* title = item.ap ? "Average Precision" : "Average Recall";
  const char* type = item.ap ? "(AP)" : "(AR)";
  std::string iou = item.iou_thr < 0 ? fmt::format("{:0.2f}:{:0.2f}", p.iou_thrs.front(), p.iou_thrs.back())
                                     : fmt::format("{:0.2f}", item.iou_thr);
  return fmt::format(" {:<18} {} @[ IoU={:<9} | area={:>6} | maxDets={:>3d} ] = {:0.3f}", title, type, iou,
                     item.area, item.max_dets, value);
}

const std::vector<std::string>& stat_names() {
  static const std::vector<std::string> names = {"AP",   "AP50", "AP75", "APs",   "APm", "APl",
                                                 "AR1",  "AR10", "AR100", "ARs",  "ARm", "ARl"};
  return names;
}

}  // namespace glamm::mask
