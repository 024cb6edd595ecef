// METEOR scorer: MeteorScorer.getMeteorStats / computeMetrics and MeteorStats.addStats for the coco jar's
// `-l en -norm` configuration.
#include <libstemmer.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "common/error.h"
#include "metrics/meteor/aligner.h"
#include "common/java_text.h"
#include "metrics/meteor/meteor.h"
#include "metrics/meteor/normalizer.h"
#include "metrics/meteor/paraphrase.h"

namespace glamm::meteor {
namespace {

// Parameters of the default "rank" task for English (Constants.PARAM_RANK / WEIGHT_RANK).
constexpr double kAlpha = 0.85, kBeta = 0.20, kGamma = 0.60, kDelta = 0.75;
constexpr double kModuleWeights[4] = {1.0, 0.6, 0.8, 0.6};

// One Snowball English stemmer per thread (sb_stemmer is not re-entrant).
struct ThreadStemmer {
  sb_stemmer* st = nullptr;
  ThreadStemmer() : st(sb_stemmer_new("english", "UTF_8")) {}
  ~ThreadStemmer() {
    if (st) sb_stemmer_delete(st);
  }
  std::string stem(const std::string& w) {
    if (!st) throw std::runtime_error("libstemmer: English stemmer unavailable");
    const sb_symbol* out = sb_stemmer_stem(st, reinterpret_cast<const sb_symbol*>(w.data()), static_cast<int>(w.size()));
    if (!out) throw std::runtime_error("libstemmer: out of memory");
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(sb_stemmer_length(st)));
  }
};

std::string stem_word(const std::string& w) {
  thread_local ThreadStemmer stemmer;
  return stemmer.stem(w);
}

bool ends_with(const std::string& s, const char* suf) {
  std::size_t n = std::char_traits<char>::length(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

std::size_t utf16_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;     // lead byte of a code point
    if ((c & 0xF8) == 0xF0) ++n;     // 4-byte sequence → surrogate pair
  }
  return n;
}

}  // namespace

// ------------------------------------------------------------------------------------------------------------
std::string Stats::to_string() const {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ' ';
    s += java::double_to_string(v[i]);
  }
  return s;
}

std::string pycocoevalcap_clean_hypothesis(std::string hyp) {
  std::string out;
  out.reserve(hyp.size());
  for (std::size_t i = 0; i < hyp.size();) {
    if (hyp.compare(i, 3, "|||") == 0) {
      i += 3;
    } else {
      out.push_back(hyp[i]);
      ++i;
    }
  }
  std::string res;
  res.reserve(out.size());
  for (std::size_t i = 0; i < out.size();) {
    if (i + 1 < out.size() && out[i] == ' ' && out[i + 1] == ' ') {
      res.push_back(' ');
      i += 2;
    } else {
      res.push_back(out[i]);
      ++i;
    }
  }
  return res;
}

// ------------------------------------------------------------------------------------------------------------
struct Scorer::Impl {
  std::shared_ptr<const Resources> res;
  Config cfg;
  NonbreakingPrefixes nbp;
  int n_modules = 3;

  mutable std::shared_mutex cache_mutex;
  mutable std::unordered_map<std::string, std::unique_ptr<WordInfo>> cache;

  WordTable::Ids synsets_of(const std::string& w) const { return res->synsets.find(w); }

  // SynonymDictionary.morph: WordNet-style suffix stripping; "" when no rule gives a known word.
  std::string morph(const std::string& word) const {
    static const char* const kSuffix[20] = {"s",   "ses", "xes", "zes", "ches", "shes", "men", "ies", "s",  "ies",
                                            "es",  "es",  "ed",  "ed",  "ing",  "ing",  "er",  "est", "er", "est"};
    static const char* const kEnding[20] = {"", "s", "x", "z", "ch", "sh", "man", "y", "", "y",
                                            "e", "",  "e", "",  "e",  "",   "",    "",  "e", "e"};
    // (The upstream "ful" branch sets a suffix that no rule can use: a word ending in "ful" matches no rule.)
    if (ends_with(word, "ss") || utf16_length(word) <= 2) return word;
    for (int i = 0; i < 20; ++i) {
      if (!ends_with(word, kSuffix[i])) continue;
      std::string cand = word.substr(0, word.size() - std::char_traits<char>::length(kSuffix[i])) + kEnding[i];
      if (res->synsets.contains(cand)) return cand;
    }
    return "";
  }

  std::unique_ptr<WordInfo> make_info(const std::string& w) const {
    auto info = std::make_unique<WordInfo>();
    info->hash = java::string_hash(w);
    info->stem_hash = java::string_hash(stem_word(w));
    info->function = res->function_words.count(java::to_lower(w)) > 0;
    if (res->paraphrase) info->paraphrase_id = res->paraphrase->translate(w);
    std::vector<int> syn;
    auto own = synsets_of(w);
    syn.assign(own.begin(), own.end());
    auto ex = res->exceptions.find(w);
    if (ex != res->exceptions.end()) {
      for (const auto& base : ex->second) {
        auto b = synsets_of(base);
        syn.insert(syn.end(), b.begin(), b.end());
      }
    } else {
      auto m = synsets_of(morph(w));
      syn.insert(syn.end(), m.begin(), m.end());
    }
    std::sort(syn.begin(), syn.end());
    syn.erase(std::unique(syn.begin(), syn.end()), syn.end());
    for (int id : syn) info->synset_mask |= std::uint64_t{1} << (static_cast<unsigned>(id) & 63u);
    info->synsets = std::move(syn);
    return info;
  }

  const WordInfo* info(const std::string& w) const {
    {
      std::shared_lock<std::shared_mutex> lock(cache_mutex);
      auto it = cache.find(w);
      if (it != cache.end()) return it->second.get();
    }
    auto fresh = make_info(w);
    std::unique_lock<std::shared_mutex> lock(cache_mutex);
    auto [it, inserted] = cache.emplace(w, std::move(fresh));
    return it->second.get();
  }

  std::string normalize(const std::string& line) const {
    return java::to_lower(normalize_english(java::trim(line), nbp));
  }

  Sentence sentence(const std::string& line) const {
    Sentence s;
    // A line of only [a-z0-9] and spaces is its own normalized, lowercased form (see normalize_english's fast
    // path): split it directly instead of building the intermediate strings.
    bool simple = true;
    for (char c : line) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ')) {
        simple = false;
        break;
      }
    }
    s.words = java::tokenize(simple ? line : normalize(line));
    s.info.reserve(s.words.size());
    for (const auto& w : s.words) s.info.push_back(info(w));
    finish_sentence(s);
    return s;
  }

  Stats stats_of(const AlignmentResult& a) const {
    Stats st;
    auto& v = st.v;
    v[0] = a.test_length;
    v[1] = a.ref_length;
    v[2] = a.test_function;
    v[3] = a.ref_function;
    double tw = 0, rw = 0;
    for (int m = 0; m < n_modules; ++m) {
      v[static_cast<std::size_t>(4 + 4 * m)] = a.content1[static_cast<std::size_t>(m)];
      v[static_cast<std::size_t>(5 + 4 * m)] = a.content2[static_cast<std::size_t>(m)];
      v[static_cast<std::size_t>(6 + 4 * m)] = a.function1[static_cast<std::size_t>(m)];
      v[static_cast<std::size_t>(7 + 4 * m)] = a.function2[static_cast<std::size_t>(m)];
      tw += a.content1[static_cast<std::size_t>(m)];
      tw += a.function1[static_cast<std::size_t>(m)];
      rw += a.content2[static_cast<std::size_t>(m)];
      rw += a.function2[static_cast<std::size_t>(m)];
    }
    v[20] = a.chunks;
    v[21] = tw;
    v[22] = rw;
    return st;
  }

  // MeteorScorer.computeMetrics, in Java's order of operations.
  double compute(const std::array<double, 23>& v, double test_total, double ref_total) const {
    const double tst_len = v[0], ref_len = v[1], tst_func = v[2], ref_func = v[3];
    const double chunks = v[20], tst_wm = v[21], ref_wm = v[22];
    double test_wlen = (kDelta * (tst_len - tst_func)) + ((1.0 - kDelta) * tst_func);
    double ref_wlen = (kDelta * (ref_len - ref_func)) + ((1.0 - kDelta) * ref_func);
    double test_wm = 0, ref_wm_w = 0;
    for (int i = 0; i < n_modules; ++i) test_wm += v[static_cast<std::size_t>(4 + 4 * i)] * kModuleWeights[i] * kDelta;
    for (int i = 0; i < n_modules; ++i) ref_wm_w += v[static_cast<std::size_t>(5 + 4 * i)] * kModuleWeights[i] * kDelta;
    for (int i = 0; i < n_modules; ++i)
      test_wm += v[static_cast<std::size_t>(6 + 4 * i)] * kModuleWeights[i] * (1.0 - kDelta);
    for (int i = 0; i < n_modules; ++i)
      ref_wm_w += v[static_cast<std::size_t>(7 + 4 * i)] * kModuleWeights[i] * (1.0 - kDelta);
    double precision = test_wm / test_wlen;
    double recall = ref_wm_w / ref_wlen;
    double fmean = 1.0 / (((1.0 - kAlpha) / precision) + (kAlpha / recall));
    double frag;
    if (test_total == tst_len && ref_total == ref_len && chunks == 1) frag = 0;
    else frag = chunks / ((tst_wm + ref_wm) / 2);
    double pen = kGamma * std::pow(frag, kBeta);
    double score = fmean * (1.0 - pen);
    if (std::isnan(score)) return 0;
    return std::max(score, 0.0);
  }

  static void totals(const std::array<double, 23>& v, double& test_total, double& ref_total) {
    test_total = 0;
    ref_total = 0;
    for (int m = 0; m < 4; ++m) {
      test_total += v[static_cast<std::size_t>(4 + 4 * m)];
      ref_total += v[static_cast<std::size_t>(5 + 4 * m)];
      test_total += v[static_cast<std::size_t>(6 + 4 * m)];
      ref_total += v[static_cast<std::size_t>(7 + 4 * m)];
    }
  }

  double score(const Stats& s) const {
    double t, r;
    totals(s.v, t, r);
    return compute(s.v, t, r);
  }
};

Scorer::Scorer(std::shared_ptr<const Resources> res, Config cfg) : impl_(std::make_unique<Impl>()) {
  if (!res) throw InputError("METEOR: no resources given");
  if (cfg.paraphrase && !res->paraphrase)
    throw InputError(res->synsets_source, "", "paraphrase module requested but no paraphrase table was loaded");
  impl_->res = std::move(res);
  impl_->cfg = cfg;
  impl_->n_modules = cfg.paraphrase ? 4 : 3;
  impl_->nbp.any = impl_->res->nonbreaking_prefixes;
  impl_->nbp.numeric_only = impl_->res->numeric_only_prefixes;
}
Scorer::~Scorer() = default;
Scorer::Scorer(Scorer&&) noexcept = default;
Scorer& Scorer::operator=(Scorer&&) noexcept = default;

const Resources& Scorer::resources() const { return *impl_->res; }
const Config& Scorer::config() const { return impl_->cfg; }

std::string Scorer::normalize(const std::string& line) const { return impl_->normalize(line); }

Stats Scorer::segment_stats(const std::string& hyp, const std::vector<std::string>& refs) const {
  const Impl& I = *impl_;
  auto check_size = [](const std::string& text, const char* what) {
    if (text.size() > kMaxSegmentBytes)
      throw InputError("", "", std::string("METEOR: ") + what + " of " + std::to_string(text.size()) +
                                   " bytes is over the limit of " + std::to_string(kMaxSegmentBytes) +
                                   " bytes for one caption (docs/input-rules.md, METEOR: long captions)");
  };
  check_size(hyp, "hypothesis");
  for (const auto& r : refs) check_size(r, "reference");
  Sentence test = I.sentence(hyp);
  index_synsets(test);
  const ParaphraseTable* para = I.cfg.paraphrase ? I.res->paraphrase.get() : nullptr;
  Stats best;
  double best_score = -1;
  for (const auto& r : refs) {
    Sentence ref = I.sentence(r);
    Stats cur = I.stats_of(align(test, ref, I.n_modules, para));
    double sc = I.score(cur);
    if (sc > best_score) {
      best_score = sc;
      best = cur;
    }
  }
  return best;
}

double Scorer::score(const Stats& s) const { return impl_->score(s); }

double Scorer::corpus_score(const std::vector<Stats>& all) const {
  std::array<double, 23> sum{};
  double test_total = 0, ref_total = 0;
  for (const auto& s : all) {
    double t, r;
    Impl::totals(s.v, t, r);
    for (std::size_t i = 0; i < 20; ++i) sum[i] += s.v[i];
    test_total += t;
    ref_total += r;
    // MeteorStats.addStats: a perfect segment's chunks are not added.
    if (!(t == s.v[0] && r == s.v[1] && s.v[20] == 1.0)) sum[20] += s.v[20];
    sum[21] += s.v[21];
    sum[22] += s.v[22];
  }
  return impl_->compute(sum, test_total, ref_total);
}

}  // namespace glamm::meteor
