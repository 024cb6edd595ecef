// SPICE-style (Link Grammar parser) against real Java SPICE scores, caption by caption (issue #17; data README:
// shared data/spice_reference/README.md).
//   spice_reference [SET] [--every K] [--threads T] [--worst N] [--quiet]
//     SET: all (default), billboard, flickr, fakecap.
//     --every K   only every K-th caption of each set (fast development mode; K = 1: the whole set)
//     --worst N   how many worst captions to print with their tuples (default 30; 0: none)
//     --quiet     no worst-caption list, only the tables
//     --ref-sensitivity  Billboard: also score with 3 of the 4 references and print how far that moves the scores
// Per set it prints the means (ours / real), the per-caption Pearson and Spearman correlations and the mean absolute
// error; Billboard per system; Flickr8k the tuple counts (tp/fp/fn, so too many tuples and too few can be told apart)
// and Kendall tau-c against the expert ratings; fakecap Object F and Relation F. Then the error classes (share of
// the summed absolute error per caption feature, see classes()) and the worst captions with our candidate tuples,
// our reference tuples and the real score.
// Captions: Billboard and Flickr8k hold raw text → PTB tokenizer + pycocoevalcap's punctuation filter (one caption
// at a time); fakecap is already in the jar's input form.
// env: GLAMM_SHARED (default <source>/../shared), GLAMM_WORDNET (default /usr/share/wordnet).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/meteor/meteor.h"
#include "metrics/ptb/ptb_tokenizer.h"
#include "metrics/spice/spice.h"

namespace {

using namespace glamm::spice;
using nlohmann::json;

std::string shared_dir() {
  const char* e = std::getenv("GLAMM_SHARED");
  return e && *e ? e : std::string(GLAMM_SPICE_SHARED_DEFAULT);
}

std::string tok(const std::string& raw) { return glamm::ptb::filter_punctuation(glamm::ptb::tokenize_line(raw)); }

double mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  double ma = mean(a), mb = mean(b), sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

std::vector<double> ranks(const std::vector<double>& v) {  // average ranks for ties
  std::vector<std::size_t> o(v.size());
  std::iota(o.begin(), o.end(), 0);
  std::sort(o.begin(), o.end(), [&](std::size_t x, std::size_t y) { return v[x] < v[y]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < o.size();) {
    std::size_t j = i;
    while (j + 1 < o.size() && v[o[j + 1]] == v[o[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) r[o[k]] = 0.5 * static_cast<double>(i + j) + 1;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) { return pearson(ranks(a), ranks(b)); }

double mae(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return a.empty() ? 0.0 : s / static_cast<double>(a.size());
}

/// Kendall tau-c (Stuart), as scipy.stats.kendalltau(variant="c"): 2(P − Q) / (n² (m − 1) / m), m = min(distinct x,
/// distinct y). O(n²): fine for the 16,992 Flickr8k judgements.
double kendall_tau_c(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  double pq = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      double s = (x[i] - x[j]) * (y[i] - y[j]);
      pq += s > 0 ? 1 : (s < 0 ? -1 : 0);
    }
  std::set<double> dx(x.begin(), x.end()), dy(y.begin(), y.end());
  double m = static_cast<double>(std::min(dx.size(), dy.size()));
  double nn = static_cast<double>(n);
  return m > 1 ? 2 * pq / (nn * nn * (m - 1) / m) : 0.0;
}

struct Item {
  std::string group;  // Billboard system; "" otherwise
  std::string cand;
  std::vector<std::string> refs;
  double ref_f = 0;                           // real SPICE: All F (Billboard, Flickr8k) or Object F (fakecap)
  double ref_rel_f = std::nan("");            // fakecap: Relation F
  int ref_tp = -1, ref_fp = -1, ref_fn = -1;  // Flickr8k
  std::vector<double> ratings;                // Flickr8k expert ratings
};

struct Ctx {
  const LinkParser* parser;
  SynsetLookup synsets;
  int threads = 2;
  int worst = 30;
  bool ref_sensitivity = false;  // Billboard: also score with 3 of the 4 references
};

std::string tuples_text(const std::vector<Tuple>& ts) {
  std::string s;
  for (const auto& t : ts) s += (s.empty() ? "" : " ") + t.to_string();
  return s;
}

// Caption features for the error classes (not exclusive). A caption can be in several classes; each class gets the
// caption's absolute error. The features read the caption's surface and our parse mode only.
std::vector<std::string> classes(const std::string& cand, const CaptionParse& p) {
  static const std::set<std::string> det = {"a",    "an",    "the",   "two",  "three", "four",  "five", "six",
                                            "some", "several", "many", "this", "these", "there", "one",  "an"};
  static const std::set<std::string> preps = {"on",   "in",    "at",  "with", "under", "near", "by",   "of",
                                              "over", "behind", "next", "into", "onto", "from", "inside", "through",
                                              "down", "across", "along", "beside", "above", "around", "outside"};
  static const std::set<std::string> numbers = {"two", "three", "four", "five", "six", "seven", "eight", "nine",
                                                "ten", "several", "many", "few", "couple", "group", "pair", "dozen"};
  std::vector<std::string> w;
  {
    std::string cur;
    for (char c : cand + " ") {
      if (c == ' ') {
        if (!cur.empty()) w.push_back(cur);
        cur.clear();
      } else {
        cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
  }
  std::vector<std::string> out;
  if (w.empty()) return {"empty"};
  if (!det.count(w[0])) out.push_back("no leading determiner");
  bool ing = false, is_ing = false, conj = false, num = false;
  int npreps = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i].size() > 4 && w[i].compare(w[i].size() - 3, 3, "ing") == 0) {
      bool after_be = i > 0 && (w[i - 1] == "is" || w[i - 1] == "are");
      (after_be ? is_ing : ing) = true;
    }
    if (w[i] == "and") conj = true;
    if (numbers.count(w[i])) num = true;
    if (preps.count(w[i])) ++npreps;
  }
  if (ing) out.push_back("participial phrase (X V-ing Y)");
  if (is_ing) out.push_back("progressive (is V-ing)");
  if (conj) out.push_back("coordination (and)");
  if (num) out.push_back("numbers / quantities");
  if (npreps >= 2) out.push_back("2+ prepositions (attachment)");
  out.push_back(p.mode == ParseMode::Complete ? (p.prefix.empty() ? "parse: complete" : "parse: with prefix")
                                              : (p.mode == ParseMode::NullLinks ? "parse: null links"
                                                                                : "parse: nouns only"));
  return out;
}

struct Scored {
  std::vector<double> ours, ref;
  std::vector<std::vector<Evaluation>> per;  // per item, kSubsets order
};

Scored score(const Ctx& c, const std::vector<Item>& items, bool object_subset) {
  std::vector<ImageInput> imgs;
  for (std::size_t i = 0; i < items.size(); ++i) imgs.push_back({std::to_string(i), items[i].cand, items[i].refs});
  auto s = score_corpus(*c.parser, c.synsets, imgs, c.threads);
  Scored out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& e = s.per_image[i].scores;
    double f = object_subset ? e[1].f : e[0].f;
    out.ours.push_back(std::isfinite(f) ? f : 0.0);
    out.ref.push_back(items[i].ref_f);
    out.per.push_back(e);
  }
  std::printf("  parse modes (distinct captions): %d complete, %d with prefix, %d null links, %d nouns only, %d empty\n",
              s.counts.complete, s.counts.with_prefix, s.counts.null_links, s.counts.nouns_only, s.counts.empty);
  return out;
}

void print_corr(const char* what, const std::vector<double>& ours, const std::vector<double>& ref) {
  std::printf("  %-10s n %5zu  mean ours %.4f real %.4f (diff %+.4f)  Pearson %.3f  Spearman %.3f  MAE %.4f\n", what,
              ours.size(), mean(ours), mean(ref), mean(ours) - mean(ref), pearson(ours, ref), spearman(ours, ref),
              mae(ours, ref));
}

void print_classes(const Ctx& c, const std::vector<Item>& items, const std::vector<double>& ours,
                   const std::vector<double>& ref) {
  std::map<std::string, std::pair<int, std::pair<double, double>>> cls;  // count, (sum |err|, sum signed err)
  double total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    double e = ours[i] - ref[i];
    total += std::fabs(e);
    for (const auto& k : classes(items[i].cand, c.parser->parse(items[i].cand))) {
      auto& x = cls[k];
      x.first++;
      x.second.first += std::fabs(e);
      x.second.second += e;
    }
  }
  std::printf("  error classes (share of the summed |error| %.2f; a caption may be in several):\n", total);
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [k, v] : cls) order.push_back({-v.second.first, k});
  std::sort(order.begin(), order.end());
  for (const auto& [neg, k] : order) {
    const auto& v = cls[k];
    std::printf("    %-32s captions %5d  |err| share %5.1f %%  mean err %+.4f  mean |err| %.4f\n", k.c_str(), v.first,
                total > 0 ? 100 * v.second.first / total : 0.0, v.second.second / v.first, v.second.first / v.first);
  }
}

void print_worst(const Ctx& c, const std::vector<Item>& items, const std::vector<double>& ours,
                 const std::vector<double>& ref, Subset subset) {
  if (c.worst <= 0) return;
  std::vector<std::size_t> o(items.size());
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(),
                   [&](std::size_t a, std::size_t b) { return std::fabs(ours[a] - ref[a]) > std::fabs(ours[b] - ref[b]); });
  std::printf("  worst %d captions (|ours − real|):\n", c.worst);
  for (int k = 0; k < c.worst && k < static_cast<int>(o.size()); ++k) {
    const Item& it = items[o[k]];
    SceneGraph cg(c.synsets), rg(c.synsets);
    auto cp = c.parser->parse(it.cand);
    for (const auto& t : cp.tuples) cg.add_tuple(t);
    for (const auto& r : it.refs)
      for (const auto& t : c.parser->parse(r).tuples) rg.add_tuple(t);
    std::printf("  %2d. ours %.3f real %.3f %s| %s\n      cand: %s\n      refs: %s\n", k + 1, ours[o[k]], ref[o[k]],
                it.group.empty() ? "" : ("[" + it.group + "] ").c_str(), it.cand.c_str(),
                tuples_text(tuples_of(cg, subset)).c_str(), tuples_text(tuples_of(rg, subset)).c_str());
  }
}

void run_billboard(const Ctx& c, int every) {
  std::vector<Item> items;
  std::ifstream in(shared_dir() + "/data/spice_reference/mscoco_thumb_billboard_spice.jsonl");
  std::string line;
  for (long n = 0; std::getline(in, line); ++n) {
    if (line.empty() || n % every) continue;
    auto j = json::parse(line);
    Item it;
    it.group = j["system"].get<std::string>();
    it.cand = tok(j["hyp"].get<std::string>());
    for (const auto& r : j["refs"]) it.refs.push_back(tok(r.get<std::string>()));
    it.ref_f = j["spice_f"].get<double>();
    items.push_back(std::move(it));
  }
  std::printf("== Billboard: COCO Karpathy test, 4 systems (real SPICE All F per caption)\n");
  auto s = score(c, items, false);
  print_corr("All F", s.ours, s.ref);
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by;
  for (std::size_t i = 0; i < items.size(); ++i) {
    by[items[i].group].first.push_back(s.ours[i]);
    by[items[i].group].second.push_back(s.ref[i]);
  }
  for (const auto& [g, v] : by)
    std::printf("    system %-12s n %4zu  mean ours %.4f real %.4f (diff %+.4f)  Pearson %.3f\n", g.c_str(),
                v.first.size(), mean(v.first), mean(v.second), mean(v.first) - mean(v.second),
                pearson(v.first, v.second));
  if (c.ref_sensitivity) {
    // How much one reference more or less moves the per-caption score: our score with the first 3 references
    // against our score with all 4 (the set's reference list is an assumption, see the data README).
    std::vector<Item> fewer = items;
    for (auto& it : fewer) it.refs.resize(std::min<std::size_t>(it.refs.size(), 3));
    auto s3 = score(c, fewer, false);
    std::printf("  reference sensitivity: Pearson(ours 3 refs, ours 4 refs) %.3f; Pearson(ours 3 refs, real) %.3f\n",
                pearson(s3.ours, s.ours), pearson(s3.ours, s.ref));
  }
  print_classes(c, items, s.ours, s.ref);
  print_worst(c, items, s.ours, s.ref, Subset::All);
}

void run_flickr(const Ctx& c, int every) {
  std::vector<Item> items;
  std::ifstream in(shared_dir() + "/data/spice_reference/flickr8k_expert_spice.jsonl");
  std::string line;
  for (long n = 0; std::getline(in, line); ++n) {
    if (line.empty() || n % every) continue;
    auto j = json::parse(line);
    Item it;
    it.cand = tok(j["candidate"].get<std::string>());
    for (const auto& r : j["refs"]) it.refs.push_back(tok(r.get<std::string>()));
    const auto& a = j["spice_all"];
    it.ref_f = a["f"].get<double>();
    it.ref_tp = a["tp"].get<int>();
    it.ref_fp = a["fp"].get<int>();
    it.ref_fn = a["fn"].get<int>();
    it.ratings = j["expert_ratings"].get<std::vector<double>>();
    items.push_back(std::move(it));
  }
  std::printf("== Flickr8k-Expert (real SPICE All pr/re/f/tp/fp/fn per caption)\n");
  auto s = score(c, items, false);
  print_corr("All F", s.ours, s.ref);
  std::vector<double> op, rp, orc, rr;
  long otp = 0, ofp = 0, ofn = 0, rtp = 0, rfp = 0, rfn = 0;
  double d_cand = 0, d_ref = 0, d_tp = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& e = s.per[i][0];
    const auto& it = items[i];
    otp += e.tp, ofp += e.fp, ofn += e.fn, rtp += it.ref_tp, rfp += it.ref_fp, rfn += it.ref_fn;
    d_cand += std::fabs(double(e.tp + e.fp) - (it.ref_tp + it.ref_fp));
    d_ref += std::fabs(double(e.tp + e.fn) - (it.ref_tp + it.ref_fn));
    d_tp += std::fabs(double(e.tp) - it.ref_tp);
    int ct = it.ref_tp + it.ref_fp, rt = it.ref_tp + it.ref_fn;
    op.push_back(e.tp + e.fp > 0 ? double(e.tp) / (e.tp + e.fp) : 0.0);
    rp.push_back(ct > 0 ? double(it.ref_tp) / ct : 0.0);
    orc.push_back(e.tp + e.fn > 0 ? double(e.tp) / (e.tp + e.fn) : 0.0);
    rr.push_back(rt > 0 ? double(it.ref_tp) / rt : 0.0);
  }
  double n = static_cast<double>(items.size());
  print_corr("precision", op, rp);
  print_corr("recall", orc, rr);
  std::printf("  tuple counts, sums ours / real: tp %ld / %ld, fp %ld / %ld, fn %ld / %ld\n", otp, rtp, ofp, rfp, ofn,
              rfn);
  std::printf("  per caption: candidate tuples %.2f / %.2f (mean |diff| %.2f), reference tuples %.2f / %.2f (mean |diff| "
              "%.2f), tp mean |diff| %.2f\n",
              (otp + ofp) / n, (rtp + rfp) / n, d_cand / n, (otp + ofn) / n, (rtp + rfn) / n, d_ref / n, d_tp / n);
  std::vector<double> xo, xr, y;
  for (std::size_t i = 0; i < items.size(); ++i)
    for (double r : items[i].ratings) xo.push_back(s.ours[i]), xr.push_back(s.ref[i]), y.push_back(r);
  std::printf("  Kendall tau-c vs expert ratings (%zu judgements): ours %.2f, real SPICE %.2f\n", y.size(),
              100 * kendall_tau_c(xo, y), 100 * kendall_tau_c(xr, y));
  print_classes(c, items, s.ours, s.ref);
  print_worst(c, items, s.ours, s.ref, Subset::All);
  if (c.worst > 0) {  // where we find fewer matching tuples than the jar (recall side of the gap)
    std::vector<std::size_t> o(items.size());
    std::iota(o.begin(), o.end(), 0);
    auto deficit = [&](std::size_t i) { return items[i].ref_tp - s.per[i][0].tp; };
    std::stable_sort(o.begin(), o.end(), [&](std::size_t a, std::size_t b) { return deficit(a) > deficit(b); });
    std::printf("  largest tp deficits (real tp − our tp):\n");
    for (int k = 0; k < c.worst / 2 && k < static_cast<int>(o.size()); ++k) {
      const Item& it = items[o[k]];
      SceneGraph cg(c.synsets);
      for (const auto& t : c.parser->parse(it.cand).tuples) cg.add_tuple(t);
      std::printf("  %2d. tp ours %d real %d (fp %d/%d) | %s\n      cand: %s\n", k + 1, s.per[o[k]][0].tp, it.ref_tp,
                  s.per[o[k]][0].fp, it.ref_fp, it.cand.c_str(), tuples_text(tuples_of(cg)).c_str());
    }
  }
}

void run_fakecap(const Ctx& c, int every) {
  auto j = json::parse(glamm::io::read_file(shared_dir() + "/data/spice_reference/coco_fakecap_half.json"));
  std::vector<Item> items;
  long n = 0;
  for (const auto& x : j["items"]) {
    if (n++ % every) continue;
    Item it;
    it.cand = x["test"].get<std::string>();
    it.refs = x["refs"].get<std::vector<std::string>>();
    it.ref_f = x["spice_object_f"].get<double>();
    it.ref_rel_f = x["spice_relation_f"].get<double>();
    items.push_back(std::move(it));
  }
  std::printf("== COCO val2014 fakecap half (jar input; real SPICE Object F and Relation F per caption)\n");
  auto s = score(c, items, true);
  print_corr("Object F", s.ours, s.ref);
  std::vector<double> ro, rr, all;
  for (std::size_t i = 0; i < items.size(); ++i) {
    double f = s.per[i][3].f;
    ro.push_back(std::isfinite(f) ? f : 0.0);
    rr.push_back(items[i].ref_rel_f);
    all.push_back(s.per[i][0].f);
  }
  print_corr("Relation F", ro, rr);
  long tp = 0, fp = 0, fn = 0;
  for (const auto& p : s.per) tp += p[0].tp, fp += p[0].fp, fn += p[0].fn;
  std::printf("  All F (ours) mean %.4f; tuples tp %ld fp %ld fn %ld\n", mean(all), tp, fp, fn);
  print_classes(c, items, s.ours, s.ref);
  print_worst(c, items, s.ours, s.ref, Subset::Object);
}

}  // namespace

int main(int argc, char** argv) {
  std::string set = "all";
  int every = 1;
  Ctx c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--every" && i + 1 < argc) {
      every = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--threads" && i + 1 < argc) {
      c.threads = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--worst" && i + 1 < argc) {
      c.worst = std::atoi(argv[++i]);
    } else if (a == "--ref-sensitivity") {
      c.ref_sensitivity = true;
    } else if (a == "--quiet") {
      c.worst = 0;
    } else if (a[0] != '-') {
      set = a;
    } else {
      std::fprintf(stderr, "usage: spice_reference [all|billboard|flickr|fakecap] [--every K] [--threads T] "
                           "[--worst N] [--quiet] [--ref-sensitivity]\n");
      return 2;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  LinkParser parser;
  auto res = std::make_shared<glamm::meteor::Resources>(
      glamm::meteor::Resources::load(shared_dir() + "/data/meteor", "-"));
  c.parser = &parser;
  c.synsets = meteor_synsets(res);
  std::printf("%s, %s; every %d-th caption\n", kMetricName, parser.version().c_str(), every);
  if (set == "all" || set == "fakecap") run_fakecap(c, every);
  if (set == "all" || set == "billboard") run_billboard(c, every);
  if (set == "all" || set == "flickr") run_flickr(c, every);
  std::printf("wall %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}
