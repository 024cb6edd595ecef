#include "metrics/mask/glamm_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "metrics/numeric.h"

namespace glamm::mask {

namespace {

void require_same_size(const Rle& a, const Rle& b) {
  if (a.h != b.h || a.w != b.w) {
    throw RleError("mask sizes differ: " + std::to_string(a.h) + "x" + std::to_string(a.w) + " vs " +
                   std::to_string(b.h) + "x" + std::to_string(b.w) +
                   " (the reference fails with a numpy broadcast error)");
  }
}

/// |a ∧ b| by a two-pointer walk over the runs (no dense decode).
uint64_t intersection_area(const Rle& a, const Rle& b) {
  std::size_t ia = 0, ib = 0;
  uint64_t ra = a.counts.empty() ? 0 : a.counts[0], rb = b.counts.empty() ? 0 : b.counts[0];
  bool va = false, vb = false;
  uint64_t inter = 0;
  while (ia < a.counts.size() && ib < b.counts.size()) {
    uint64_t step = std::min(ra, rb);
    if (va && vb) inter += step;
    ra -= step;
    rb -= step;
    while (ra == 0 && ia < a.counts.size()) {
      if (++ia < a.counts.size()) {
        ra = a.counts[ia];
        va = !va;
      }
    }
    while (rb == 0 && ib < b.counts.size()) {
      if (++ib < b.counts.size()) {
        rb = b.counts[ib];
        vb = !vb;
      }
    }
  }
  return inter;
}

uint64_t pixel_area(const Rle& r) {
  uint64_t s = 0;
  for (std::size_t i = 1; i < r.counts.size(); i += 2) s += r.counts[i];
  return s;
}

}  // namespace

double dense_iou(const Rle& a, const Rle& b) {
  require_same_size(a, b);
  const uint64_t inter = intersection_area(a, b);
  const uint64_t uni = pixel_area(a) + pixel_area(b) - inter;
  if (uni == 0) return std::numeric_limits<double>::quiet_NaN();  // numpy 0/0
  return static_cast<double>(inter) / static_cast<double>(uni);
}

std::vector<double> dense_iou_matrix(const std::vector<Rle>& a, const std::vector<Rle>& b) {
  std::vector<double> m(a.size() * b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) m[i * b.size() + j] = dense_iou(a[i], b[j]);
  return m;
}

std::vector<double> dense_iou_matrix_fast(const std::vector<Rle>& a, const std::vector<Rle>& b) {
  // Prefilter on the span [first, last] of foreground linear indices: disjoint spans cannot intersect.
  struct Span {
    uint64_t area = 0, first = 0, last = 0;
  };
  auto span_of = [](const Rle& r) {
    Span s;
    uint64_t pos = 0;
    for (std::size_t k = 0; k < r.counts.size(); ++k) {
      const uint64_t c = r.counts[k];
      if ((k & 1) && c > 0) {
        if (s.area == 0) s.first = pos;
        s.last = pos + c - 1;
        s.area += c;
      }
      pos += c;
    }
    return s;
  };
  std::vector<Span> sa(a.size()), sb(b.size());
  for (std::size_t i = 0; i < a.size(); ++i) sa[i] = span_of(a[i]);
  for (std::size_t j = 0; j < b.size(); ++j) sb[j] = span_of(b[j]);
  std::vector<double> m(a.size() * b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < b.size(); ++j) {
      require_same_size(a[i], b[j]);
      const bool overlap = sa[i].area && sb[j].area && sa[i].first <= sb[j].last && sb[j].first <= sa[i].last;
      const uint64_t inter = overlap ? intersection_area(a[i], b[j]) : 0;
      const uint64_t uni = sa[i].area + sb[j].area - inter;
      m[i * b.size() + j] = uni == 0 ? std::numeric_limits<double>::quiet_NaN()
                                     : static_cast<double>(inter) / static_cast<double>(uni);
    }
  }
  return m;
}

GcgImageMiou gcg_image_miou(const std::vector<Rle>& preds, const std::vector<Rle>& gts, bool strict) {
  return gcg_image_miou_from_ious(dense_iou_matrix(preds, gts), preds.size(), gts.size(), strict);
}

GcgImageMiou gcg_image_miou_from_ious(std::vector<double> m, std::size_t n_preds, std::size_t n_gts, bool strict) {
  GcgImageMiou out;
  if (strict) {
    for (double& v : m)
      if (std::isnan(v)) v = 1.0;  // empty vs empty agree perfectly
  }
  // Live rows/columns stand for numpy's np.delete; the row-major order of the live cells is preserved.
  std::vector<std::size_t> rows(n_preds), cols(n_gts);
  std::iota(rows.begin(), rows.end(), 0);
  std::iota(cols.begin(), cols.end(), 0);
  const std::size_t ncol = n_gts;
  while (!rows.empty() && !cols.empty()) {
    // np.max: NaN propagates, and `NaN > 0` is False, so any NaN ends the loop.
    bool has_nan = false;
    double best = -std::numeric_limits<double>::infinity();
    std::size_t br = 0, bc = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      for (std::size_t c = 0; c < cols.size(); ++c) {
        const double v = m[rows[r] * ncol + cols[c]];
        if (std::isnan(v)) {
          has_nan = true;
        } else if (v > best) {  // strict '>' keeps the first maximum in row-major order (np.argmax)
          best = v;
          br = r;
          bc = c;
        }
      }
    }
    if (has_nan || !(best > 0)) break;
    out.pairs.push_back(best);
    rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(br));
    cols.erase(cols.begin() + static_cast<std::ptrdiff_t>(bc));
  }
  if (strict) {
    const std::size_t denom = std::max(n_preds, n_gts);
    if (denom == 0) {
      out.miou = 1.0;
    } else {
      double s = 0.0;
      for (double v : out.pairs) s += v;
      out.miou = s / static_cast<double>(denom);
    }
  } else {
    out.miou = out.pairs.empty() ? 0.0 : metrics::numpy_mean(out.pairs);
  }
  return out;
}

GcgImageRecall gcg_image_recall(const std::vector<Rle>& gt_masks, std::size_t n_gt_labels,
                                const std::vector<Rle>& pred_masks, std::size_t n_pred_labels,
                                const PhraseSimilarity& similarity, double iou_thr, double text_thr, bool strict) {
  std::vector<double> ious;
  if (strict) {
    ious = dense_iou_matrix(gt_masks, pred_masks);  // size mismatch throws: strict reports errors
  } else {
    try {
      ious = dense_iou_matrix(gt_masks, pred_masks);
    } catch (const RleError& e) {
      GcgImageRecall out;
      out.positives = n_gt_labels;  // counted before the failure
      out.skipped = std::string("ValueError: ") + e.what();
      return out;
    }
  }
  return gcg_image_recall_from_ious(std::move(ious), gt_masks.size(), n_gt_labels, pred_masks.size(), n_pred_labels,
                                    similarity, iou_thr, text_thr, strict);
}

GcgImageRecall gcg_image_recall_from_ious(std::vector<double> ious, std::size_t G, std::size_t n_gt_labels,
                                          std::size_t P, std::size_t n_pred_labels, const PhraseSimilarity& similarity,
                                          double iou_thr, double text_thr, bool strict) {
  GcgImageRecall out;
  out.positives = n_gt_labels;  // counted before anything can fail
  // text_sims is a dense n_gt_labels × n_pred_labels matrix in the reference; zeroing is mirrored on it.
  std::vector<double> sims(n_gt_labels * n_pred_labels);
  for (std::size_t i = 0; i < n_gt_labels; ++i)
    for (std::size_t j = 0; j < n_pred_labels; ++j) sims[i * n_pred_labels + j] = similarity(i, j);

  if (!strict) {
    if (G == 0 || P == 0) return out;  // `while ious.size > 0` never runs
    for (;;) {
      // numpy.argmax: the first NaN if any, else the first maximum.
      std::size_t idx = 0;
      bool found_nan = false;
      for (std::size_t k = 0; k < ious.size(); ++k) {
        if (std::isnan(ious[k])) {
          idx = k;
          found_nan = true;
          break;
        }
        if (ious[k] > ious[idx]) idx = k;
      }
      (void)found_nan;
      const std::size_t gi = idx / P, pj = idx % P;
      if (ious[idx] < iou_thr) break;  // NaN < thr is false
      if (gi >= n_gt_labels || pj >= n_pred_labels) {
        out.matches.clear();  // the exception discards the image's matches (true_positives not incremented)
        out.skipped = "IndexError: index " + std::to_string(gi >= n_gt_labels ? gi : pj) +
                      " is out of bounds for axis " + std::to_string(gi >= n_gt_labels ? 0 : 1) + " with size " +
                      std::to_string(gi >= n_gt_labels ? n_gt_labels : n_pred_labels);
        return out;
      }
      if (sims[gi * n_pred_labels + pj] < text_thr) break;
      out.matches.emplace_back(gi, pj);
      for (std::size_t c = 0; c < P; ++c) ious[gi * P + c] = 0.0;
      for (std::size_t r = 0; r < G; ++r) ious[r * P + pj] = 0.0;
      for (std::size_t c = 0; c < n_pred_labels; ++c) sims[gi * n_pred_labels + c] = 0.0;
      for (std::size_t r = 0; r < n_gt_labels; ++r) sims[r * n_pred_labels + pj] = 0.0;
    }
    return out;
  }

  // strict: every labelled (gt, pred) pair with a real IoU, in descending IoU order (ties: row-major order),
  // accepted when both thresholds hold and neither side is taken yet.
  struct Cand {
    double iou;
    std::size_t gi, pj;
  };
  std::vector<Cand> cands;
  for (std::size_t i = 0; i < std::min(G, n_gt_labels); ++i)
    for (std::size_t j = 0; j < std::min(P, n_pred_labels); ++j) {
      const double v = ious[i * P + j];
      if (!std::isnan(v) && v >= iou_thr && sims[i * n_pred_labels + j] >= text_thr) cands.push_back({v, i, j});
    }
  std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.iou > b.iou; });
  std::vector<char> gt_used(G, 0), pred_used(P, 0);
  for (const Cand& c : cands) {
    if (gt_used[c.gi] || pred_used[c.pj]) continue;
    gt_used[c.gi] = pred_used[c.pj] = 1;
    out.matches.emplace_back(c.gi, c.pj);
  }
  return out;
}

RefSegAccumulator::Counts RefSegAccumulator::target_counts(const uint8_t* pred, const uint8_t* gt,
                                                           std::size_t n_pixels) {
  int64_t inter = 0, area_pred = 0, area_gt = 0;
  for (std::size_t k = 0; k < n_pixels; ++k) {
    if (gt[k] == 255) continue;  // prediction set to 255 there: outside histc's [0, 1] range
    const bool p = pred[k] == 1, g = gt[k] == 1;
    area_pred += p;
    area_gt += g;
    inter += (p && g);
  }
  return {inter, area_pred + area_gt - inter};
}

std::vector<double> RefSegAccumulator::add_item(const std::vector<Counts>& targets) {
  std::vector<double> per_target;
  per_target.reserve(targets.size());
  const int64_t n = static_cast<int64_t>(targets.size());
  if (strict_) {
    for (const Counts& t : targets) {
      const double iou = t.union_ == 0 ? 1.0 : static_cast<double>(t.intersection) / static_cast<double>(t.union_);
      per_target.push_back(iou);
      giou_exact_ += iou;
      i_exact_ += t.intersection;
      u_exact_ += t.union_;
    }
    count_ += n;
    return per_target;
  }
  // float32, as numpy/torch float32 tensors: intersection += I; union += U; acc += I / (U + 1e-5); acc += 1 if U==0
  float item_i = 0.f, item_u = 0.f, acc = 0.f;
  for (const Counts& t : targets) {
    const float fi = static_cast<float>(t.intersection), fu = static_cast<float>(t.union_);
    item_i = item_i + fi;
    item_u = item_u + fu;
    float r = fi / (fu + 1e-5f);
    acc = acc + r;
    if (t.union_ == 0) {
      acc = acc + 1.0f;
      r = r + 1.0f;
    }
    per_target.push_back(static_cast<double>(r));
  }
  if (n > 0) {
    const float acc_mean = acc / static_cast<float>(n);  // accuracy_iou / gt_masks.shape[0]
    giou_f32_ = giou_f32_ + acc_mean * static_cast<float>(n);  // AverageMeter.update(val, n): sum += val * n
  }
  i_f32_ = i_f32_ + item_i;
  u_f32_ = u_f32_ + item_u;
  count_ += n;
  return per_target;
}

double RefSegAccumulator::giou() const {
  if (strict_) return count_ == 0 ? 0.0 : giou_exact_ / static_cast<double>(count_);
  // all_reduce: sum / (count + 1e-5) with a float32 array and a Python float → float32 division
  const float denom = static_cast<float>(static_cast<double>(static_cast<float>(count_)) + 1e-5);
  return static_cast<double>(giou_f32_ / denom);
}

double RefSegAccumulator::ciou() const {
  if (strict_) return u_exact_ == 0 ? 0.0 : static_cast<double>(i_exact_) / static_cast<double>(u_exact_);
  return static_cast<double>(i_f32_ / (u_f32_ + 1e-10f));
}

}  // namespace glamm::mask
