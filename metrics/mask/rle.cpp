// RLE encode/decode/area/bbox/merge/IoU: reimplements pycocotools 2.0.6 common/maskApi.c (rleEncode, rleDecode,
// rleArea, rleToBbox, rleMerge, rleIou, bbIou) over std::vector. Spec: shared specs/mask-metrics.md §2.3.
#include "metrics/mask/rle.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace glamm::mask {
namespace {

constexpr uint64_t kMaxPixels = std::numeric_limits<uint32_t>::max();

uint64_t counts_sum(const Rle& r) {
  uint64_t s = 0;
  for (uint32_t c : r.counts) s += c;
  return s;
}

/// One RLE as a cursor over its runs, mirroring the C walk state (remaining length of the current run, run index,
/// current value). Zero-length runs are stepped over one per call, as the C loop does.
struct RunCursor {
  const uint32_t* counts;
  size_t m;
  size_t next = 1;     // index of the next run to load (C: a / b)
  uint32_t left = 0;   // remaining pixels in the current run (C: ca / cb)
  bool value = false;  // value of the current run (C: va / vb)

  explicit RunCursor(const Rle& r) : counts(r.counts.data()), m(r.counts.size()), left(m ? counts[0] : 0) {}

  /// Consume c pixels; when the run is used up and more runs follow, load the next one (one step, as in C).
  void consume(uint32_t c) {
    left -= c;
    if (left == 0 && next < m) {
      left = counts[next++];
      value = !value;
    }
  }
  bool exhausted() const { return left == 0 && next >= m; }
};

/// The rleIou two-pointer walk: pixels in both (inter) and in either (uni). Same steps as the C loop (one run
/// loaded per side per iteration, stop when both current runs are empty), with branch-free accumulation.
void walk_intersection_union(const Rle& da, const Rle& db, uint64_t& inter, uint64_t& uni) {
  const uint32_t* A = da.counts.data();
  const uint32_t* B = db.counts.data();
  const size_t ka = da.counts.size(), kb = db.counts.size();
  uint32_t ca = ka ? A[0] : 0, cb = kb ? B[0] : 0;
  size_t ia = 1, ib = 1;
  uint32_t va = 0, vb = 0;  // 0 or 1
  uint64_t i = 0, u = 0;
  for (;;) {
    const uint32_t c = std::min(ca, cb);
    u += uint64_t{c} & (0 - uint64_t{va | vb});
    i += uint64_t{c} & (0 - uint64_t{va & vb});
    ca -= c;
    if (ca == 0 && ia < ka) {
      ca = A[ia++];
      va ^= 1;
    }
    cb -= c;
    if (cb == 0 && ib < kb) {
      cb = B[ib++];
      vb ^= 1;
    }
    if ((ca | cb) == 0) break;  // C: ct == 0
    // Invalid inputs whose sums differ: one side has nothing left and the other cannot advance (C loops forever).
    if (c == 0 && ((ca == 0 && ia >= ka) || (cb == 0 && ib >= kb))) break;
  }
  inter = i;
  uni = u;
}

/// area and plain of RleFacts (see rle.h) in one vectorisable pass.
void count_facts(const Rle& r, RleFacts& f) {
  const uint32_t* c = r.counts.data();
  const size_t k = r.counts.size();
  uint64_t total = 0, fg = 0;
  uint32_t zero = 0;
  for (size_t j = 0; j < k; ++j) {
    total += c[j];
    fg += (j & 1) ? c[j] : 0;
    zero |= (j > 0 && c[j] == 0) ? 1u : 0u;
  }
  f.area = fg;
  f.plain = total == uint64_t{r.h} * r.w && zero == 0;
}

/// Pixels in both masks, walking the two lists of 1-runs as intervals (half the steps of the run walk, and no
/// steps over 0-runs). Exact for any two RLEs of one size whose counts sum to h*w.
uint64_t intersect_plain(const Rle& da, const Rle& db) {
  const uint32_t* A = da.counts.data();
  const uint32_t* B = db.counts.data();
  const size_t na = da.counts.size() / 2, nb = db.counts.size() / 2;  // numbers of 1-runs
  if (na == 0 || nb == 0) return 0;
  size_t ia = 0, ib = 0;
  uint64_t a0 = A[0], a1 = a0 + A[1], b0 = B[0], b1 = b0 + B[1];  // current 1-runs [a0, a1), [b0, b1)
  uint64_t inter = 0;
  for (;;) {
    const uint64_t lo = std::max(a0, b0), hi = std::min(a1, b1);
    inter += hi > lo ? hi - lo : 0;
    if (a1 <= b1) {  // the run that ends first cannot meet any later run of the other mask
      if (++ia == na) break;
      a0 = a1 + A[2 * ia];
      a1 = a0 + A[2 * ia + 1];
    } else {
      if (++ib == nb) break;
      b0 = b1 + B[2 * ib];
      b1 = b0 + B[2 * ib + 1];
    }
  }
  return inter;
}

}  // namespace

Rle encode(const uint8_t* mask_colmajor, uint32_t h, uint32_t w) {
  const uint64_t a = uint64_t{h} * w;
  if (a > kMaxPixels) {
    throw RleError("mask of " + std::to_string(h) + "x" + std::to_string(w) + " pixels exceeds 2^32-1 pixels");
  }
  Rle r{h, w, {}};
  uint8_t prev = 0;
  uint32_t run = 0;
  for (uint64_t j = 0; j < a; ++j) {
    if (mask_colmajor[j] != prev) {
      r.counts.push_back(run);
      run = 0;
      prev = mask_colmajor[j];
    }
    ++run;
  }
  r.counts.push_back(run);
  return r;
}

std::vector<uint8_t> decode(const Rle& r) {
  const uint64_t total = uint64_t{r.h} * r.w;
  const uint64_t sum = counts_sum(r);
  if (sum > total) {
    throw RleError("Invalid RLE mask representation: counts sum to " + std::to_string(sum) + ", more than h*w = " +
                   std::to_string(total));
  }
  if (sum < total) {
    throw RleError("Invalid RLE mask representation: counts sum to " + std::to_string(sum) + ", less than h*w = " +
                   std::to_string(total) + " (pycocotools would leave the rest uninitialised)");
  }
  std::vector<uint8_t> mask(total);
  uint64_t pos = 0;
  uint8_t v = 0;
  for (uint32_t c : r.counts) {
    std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(pos), c, v);
    pos += c;
    v = !v;
  }
  return mask;
}

uint32_t area(const Rle& r) {
  uint32_t a = 0;
  for (size_t j = 1; j < r.counts.size(); j += 2) a += r.counts[j];
  return a;
}

Box to_bbox_reference(const Rle& r) {
  const size_t m = r.counts.size() / 2 * 2;
  if (m == 0) return {0, 0, 0, 0};
  const uint32_t h = r.h, w = r.w;
  uint32_t xs = w, ys = h, xe = 0, ye = 0, cc = 0;
  for (size_t j = 0; j < m; ++j) {
    const uint32_t start = cc;
    cc += r.counts[j];
    if (j % 2 == 0 || r.counts[j] == 0) continue;
    if (h == 0) throw RleError("RLE with h = 0 has a non-empty foreground run");
    const uint32_t y_start = start % h, x_start = (start - y_start) / h;
    const uint32_t y_end = (cc - 1) % h, x_end = (cc - 1 - y_end) / h;
    xs = std::min(xs, x_start);
    xe = std::max(xe, x_end);
    if (x_start < x_end) {
      ys = 0;
      ye = h - 1;
    } else {
      ys = std::min(ys, y_start);
      ye = std::max(ye, y_end);
    }
  }
  return {static_cast<double>(xs), static_cast<double>(ys), static_cast<double>(uint32_t(xe - xs + 1)),
          static_cast<double>(uint32_t(ye - ys + 1))};
}


Box to_bbox(const Rle& r) {
  const uint32_t h = r.h, w = r.w;
  const size_t m = r.counts.size() / 2 * 2;
  if (m == 0) return {0, 0, 0, 0};
  // h == 0 throws at the first non-empty 1-run, as the C code would crash; h == 1 has no reciprocal below.
  if (h <= 1) return to_bbox_reference(r);
  // The C formula per 1-run (column = position / h, row = position % h at its first and last pixel), with the
  // divisions done as one multiplication by the 64-bit reciprocal ceil(2^64 / h), exact for every position below
  // 2^32 (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019), and the box updated without
  // branches. Positions stay below 2^32 while the counts sum to at most 2^32-1 (every valid RLE); past that the
  // C code's uint32 wrap-around decides, so that case goes to the general form.
  const uint64_t recip = std::numeric_limits<uint64_t>::max() / h + 1;
  const auto column = [recip](uint64_t pos) {
    __extension__ using U128 = unsigned __int128;  // GCC/Clang: the 64x64 -> 128-bit product (mulq)
    return static_cast<uint32_t>((static_cast<U128>(recip) * pos) >> 64);
  };
  const uint32_t* c = r.counts.data();
  uint32_t xs = w, ys = h, xe = 0, ye = 0;
  uint64_t end = 0;
  for (size_t j = 0; j < m; j += 2) {
    const uint64_t start = end + c[j];
    end = start + c[j + 1];
    if (end > std::numeric_limits<uint32_t>::max()) return to_bbox_reference(r);
    if (c[j + 1] == 0) continue;  // zero-length 1-runs do not count
    const uint32_t x0 = column(start), x1 = column(end - 1);
    const auto y0 = static_cast<uint32_t>(start - uint64_t{x0} * h);
    const auto y1 = static_cast<uint32_t>(end - 1 - uint64_t{x1} * h);
    const bool spans = x0 < x1;  // the run crosses a column boundary: the box takes the whole height
    xs = std::min(xs, x0);
    xe = std::max(xe, x1);
    ys = std::min(ys, spans ? 0u : y0);
    ye = std::max(ye, spans ? h - 1 : y1);
  }
  return {static_cast<double>(xs), static_cast<double>(ys), static_cast<double>(uint32_t(xe - xs + 1)),
          static_cast<double>(uint32_t(ye - ys + 1))};
}

Rle merge(const std::vector<Rle>& rles, bool intersect) {
  if (rles.empty()) return Rle{};
  if (rles.size() == 1) return rles[0];
  const uint32_t h = rles[0].h, w = rles[0].w;
  for (const Rle& b : rles) {
    if (b.h != h || b.w != w) return Rle{};
  }
  Rle acc = rles[0];
  std::vector<uint32_t> out;
  for (size_t i = 1; i < rles.size(); ++i) {
    RunCursor a(acc), b(rles[i]);
    out.clear();
    out.reserve(acc.counts.size() + rles[i].counts.size() + 1);
    bool v = false;
    uint32_t cc = 0;
    for (;;) {
      const uint32_t c = std::min(a.left, b.left);
      cc += c;
      a.consume(c);
      b.consume(c);
      const bool vp = v;
      v = intersect ? (a.value && b.value) : (a.value || b.value);
      // C: ct = ca + cb; the walk ends when both current runs are empty after loading.
      const bool done = a.left == 0 && b.left == 0;
      if (v != vp || done) {
        out.push_back(cc);
        cc = 0;
      }
      if (done) break;
      // Guard for invalid inputs whose sums differ (C loops forever): one side exhausted, the other not.
      if (c == 0 && ((a.exhausted() && b.left > 0) || (b.exhausted() && a.left > 0))) {
        out.push_back(cc);
        break;
      }
    }
    acc.counts.swap(out);
  }
  return acc;
}

Rle canonical(const Rle& r) {
  Rle out{r.h, r.w, {}};
  out.counts.reserve(r.counts.size());
  for (size_t i = 0; i < r.counts.size(); ++i) {
    const uint32_t c = r.counts[i];
    if (i == 0) {
      out.counts.push_back(c);
    } else if (c == 0 && (i + 1 == r.counts.size() ||
                          uint64_t{out.counts.back()} + r.counts[i + 1] <= std::numeric_limits<uint32_t>::max())) {
      // A zero-length run: the next run has the value of the one before it, so it joins that run (kept only where
      // the joined run would not fit in uint32, possible only for masks above 2^32-1 pixels).
      if (i + 1 < r.counts.size()) out.counts.back() += r.counts[++i];
    } else {
      out.counts.push_back(c);
    }
  }
  return out;
}

namespace {

/// bbIou over raw arrays (out row-major, dt_n × gt_n).
void bbox_iou_raw(const Box* dt, size_t dt_n, const Box* gt, size_t gt_n, const uint8_t* iscrowd, double* out) {
  for (size_t g = 0; g < gt_n; ++g) {
    const Box& G = gt[g];
    const double ga = G[2] * G[3];
    const bool crowd = iscrowd[g] != 0;
    for (size_t d = 0; d < dt_n; ++d) {
      const Box& D = dt[d];
      const double da = D[2] * D[3];
      double& o = out[d * gt_n + g];
      o = 0;
      const double iw = std::fmin(D[2] + D[0], G[2] + G[0]) - std::fmax(D[0], G[0]);
      if (iw <= 0) continue;
      const double ih = std::fmin(D[3] + D[1], G[3] + G[1]) - std::fmax(D[1], G[1]);
      if (ih <= 0) continue;
      const double i = iw * ih;
      const double u = crowd ? da : da + ga - i;
      o = i / u;
    }
  }
}

}  // namespace

void bbox_iou(const std::vector<Box>& dt, const std::vector<Box>& gt, const std::vector<uint8_t>& iscrowd,
              double* out) {
  if (iscrowd.size() != gt.size()) throw std::invalid_argument("bbox_iou: iscrowd must have one entry per gt");
  bbox_iou_raw(dt.data(), dt.size(), gt.data(), gt.size(), iscrowd.data(), out);
}

namespace {

/// rleIou of the pairs whose boxes overlap (out already holds bbIou), with each mask's RleFacts from `facts(side,
/// index)` (computed once by the caller or on first use).
template <class Facts>
void rle_iou_pairs(const Rle* const* dt, size_t dt_n, const Rle* const* gt, size_t gt_n, const uint8_t* iscrowd,
                   double* out, Facts&& facts) {
  for (size_t d = 0; d < dt_n; ++d) {
    for (size_t g = 0; g < gt_n; ++g) {
      double& o = out[d * gt_n + g];
      if (!(o > 0)) continue;
      const Rle& D = *dt[d];
      const Rle& G = *gt[g];
      if (D.h != G.h || D.w != G.w) {
        o = -1;
        continue;
      }
      const RleFacts& fd = facts(0, d);
      const RleFacts& fg = facts(1, g);
      uint64_t inter = 0, uni = 0;
      if (fd.plain && fg.plain) {
        inter = intersect_plain(D, G);
        uni = fd.area + fg.area - inter;
      } else {
        walk_intersection_union(D, G, inter, uni);
      }
      if (inter == 0) {
        o = 0;
      } else {
        if (iscrowd[g]) uni = static_cast<uint32_t>(fd.area);  // area(D): the C code's uint32 sum
        o = static_cast<double>(static_cast<uint32_t>(inter)) / static_cast<double>(static_cast<uint32_t>(uni));
      }
    }
  }
}

}  // namespace

RleFacts rle_facts(const Rle& r) {
  RleFacts f;
  count_facts(r, f);
  f.box = to_bbox(r);
  return f;
}

void iou(const Rle* const* dt, const Box* dt_box, size_t dt_n, const Rle* const* gt, const Box* gt_box, size_t gt_n,
         const uint8_t* iscrowd, double* out) {
  if (dt_n == 0 || gt_n == 0) return;
  bbox_iou_raw(dt_box, dt_n, gt_box, gt_n, iscrowd, out);
  // Facts of each mask taken when a pair first needs them (per-thread buffers: no allocation once grown).
  thread_local std::vector<RleFacts> facts[2];
  thread_local std::vector<uint8_t> done[2];
  facts[0].resize(dt_n);
  facts[1].resize(gt_n);
  done[0].assign(dt_n, 0);
  done[1].assign(gt_n, 0);
  rle_iou_pairs(dt, dt_n, gt, gt_n, iscrowd, out, [&](int side, size_t i) -> const RleFacts& {
    if (!done[side][i]) {
      count_facts(side == 0 ? *dt[i] : *gt[i], facts[side][i]);
      done[side][i] = 1;
    }
    return facts[side][i];
  });
}

void iou(const Rle* const* dt, const RleFacts* dt_facts, size_t dt_n, const Rle* const* gt, const RleFacts* gt_facts,
         size_t gt_n, const uint8_t* iscrowd, double* out) {
  if (dt_n == 0 || gt_n == 0) return;
  thread_local std::vector<Box> boxes[2];
  boxes[0].resize(dt_n);
  boxes[1].resize(gt_n);
  for (size_t d = 0; d < dt_n; ++d) boxes[0][d] = dt_facts[d].box;
  for (size_t g = 0; g < gt_n; ++g) boxes[1][g] = gt_facts[g].box;
  bbox_iou_raw(boxes[0].data(), dt_n, boxes[1].data(), gt_n, iscrowd, out);
  rle_iou_pairs(dt, dt_n, gt, gt_n, iscrowd, out,
                [&](int side, size_t i) -> const RleFacts& { return side == 0 ? dt_facts[i] : gt_facts[i]; });
}

void iou(const Rle* const* dt, size_t dt_n, const Rle* const* gt, size_t gt_n, const uint8_t* iscrowd, double* out) {
  if (dt_n == 0 || gt_n == 0) return;
  std::vector<Box> db(dt_n), gb(gt_n);
  for (size_t d = 0; d < dt_n; ++d) db[d] = to_bbox(*dt[d]);
  for (size_t g = 0; g < gt_n; ++g) gb[g] = to_bbox(*gt[g]);
  iou(dt, db.data(), dt_n, gt, gb.data(), gt_n, iscrowd, out);
}

void iou(const std::vector<Rle>& dt, const std::vector<Rle>& gt, const std::vector<uint8_t>& iscrowd, double* out) {
  if (iscrowd.size() != gt.size()) throw std::invalid_argument("iou: iscrowd must have one entry per gt");
  std::vector<const Rle*> dp(dt.size()), gp(gt.size());
  for (size_t d = 0; d < dt.size(); ++d) dp[d] = &dt[d];
  for (size_t g = 0; g < gt.size(); ++g) gp[g] = &gt[g];
  iou(dp.data(), dp.size(), gp.data(), gp.size(), iscrowd.data(), out);
}

}  // namespace glamm::mask
