#include "metrics/caption/coco_eval_cap.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <optional>

#include "common/error.h"
#include "metrics/caption/cider.h"
#include "metrics/caption/ngrams.h"
#include "metrics/parallel.h"
#include "metrics/caption/rouge.h"

namespace glamm::caption {

MetricSet MetricSet::parse(const std::string& list) {
  MetricSet m{false, false, false, false};
  std::string item;
  bool any = false;
  auto flush = [&]() {
    std::string k;
    for (char c : item)
      if (!std::isspace(static_cast<unsigned char>(c))) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    item.clear();
    if (k.empty()) return;
    if (k == "bleu")
      m.bleu = true;
    else if (k == "meteor")
      m.meteor = true;
    else if (k == "rouge" || k == "rouge_l" || k == "rougel")
      m.rouge = true;
    else if (k == "cider" || k == "cider-d" || k == "ciderd")
      m.cider = true;
    else
      throw InputError("", "--metrics", "unknown caption metric '" + k + "' (choose from bleu, meteor, rouge, cider)");
    any = true;
  };
  for (char c : list) {
    if (c == ',')
      flush();
    else
      item += c;
  }
  flush();
  if (!any) throw InputError("", "--metrics", "no metric given (choose from bleu, meteor, rouge, cider)");
  return m;
}

std::string MetricSet::str() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ',';
    s += name;
  };
  add(bleu, "bleu");
  add(meteor, "meteor");
  add(rouge, "rouge");
  add(cider, "cider");
  return s;
}

namespace {

void say(const EvalCapOptions& opt, const std::string& msg) {
  if (opt.progress) opt.progress(msg);
}

void check_shapes(std::size_t ids, std::size_t refs, std::size_t hyps) {
  if (ids != refs || ids != hyps)
    throw InputError("", "", "caption evaluation: " + std::to_string(ids) + " image ids, " + std::to_string(refs) +
                                 " reference sets and " + std::to_string(hyps) + " hypotheses (must be equal)");
  if (ids == 0) throw InputError("", "", "caption evaluation: no images to evaluate");
}

std::string line_break_warning(const char* what, std::size_t n, ptb::LineBreakMode mode) {
  std::string s = std::to_string(n) + " " + what + (n == 1 ? " caption contains" : " captions contain") +
                  " a line-break character other than \\n (\\r, U+000B, U+000C, U+2028 or U+2029)";
  if (mode == ptb::LineBreakMode::kReference)
    return s + "; as in pycocoevalcap, each one starts a new tokenizer output line and shifts every later caption "
               "onto the wrong line (use --strict to treat them as spaces)";
  return s + "; treated as spaces (--strict), which deviates from pycocoevalcap's output for these captions";
}

}  // namespace

EvalCapResult score_tokenized(std::vector<ImageId> image_ids, std::vector<std::vector<std::string>> refs_tokenized,
                              std::vector<std::string> hyps_tokenized, const EvalCapOptions& opt) {
  check_shapes(image_ids.size(), refs_tokenized.size(), hyps_tokenized.size());
  for (std::size_t i = 0; i < refs_tokenized.size(); ++i)
    if (refs_tokenized[i].empty())
      throw InputError("", "image " + image_ids[i].display(),
                       "no reference captions (pycocoevalcap requires at least one per image)");
  if (opt.metrics.meteor && opt.meteor == nullptr)
    throw InputError("", "", "METEOR requested but no METEOR scorer was set up");
  const int threads = std::max(1, opt.threads);
  const std::size_t n = image_ids.size();

  EvalCapResult out;
  out.per_image.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.per_image[i].image_id = image_ids[i];

  // BLEU and CIDEr-D share the n-gram counts (both split with str.split()). Counting is serial, so when METEOR
  // runs it is done on its own thread meanwhile (results are identical either way).
  std::future<NgramCorpus> cooking;
  std::optional<NgramCorpus> corpus;
  if (opt.metrics.bleu || opt.metrics.cider) {
    if (opt.metrics.meteor && threads > 1)
      cooking = std::async(std::launch::async, [&] { return cook_corpus(hyps_tokenized, refs_tokenized); });
    else
      corpus = cook_corpus(hyps_tokenized, refs_tokenized);
  }

  std::vector<std::pair<std::string, double>> meteor_metric;
  if (opt.metrics.meteor) {
    say(opt, "computing METEOR score...");
    const meteor::Scorer& scorer = *opt.meteor;
    std::vector<meteor::Stats> stats(n);
    metrics::parallel_for(
        n, threads,
        [&](std::size_t i, int) {
          try {
            stats[i] =
                scorer.segment_stats(meteor::pycocoevalcap_clean_hypothesis(hyps_tokenized[i]), refs_tokenized[i]);
          } catch (const InputError& e) {  // a caption over the METEOR size limits: name its image
            throw InputError("", "image " + image_ids[i].display(), e.message());
          }
          out.per_image[i].meteor_stats = stats[i];
          out.per_image[i].meteor = scorer.score(stats[i]);
        },
        4);
    meteor_metric.emplace_back("METEOR", scorer.corpus_score(stats));
  }
  if (cooking.valid()) corpus = cooking.get();

  if (opt.metrics.bleu) {
    say(opt, "computing Bleu score...");
    BleuResult b = bleu_score(*corpus, threads);
    for (std::size_t i = 0; i < n; ++i) {
      out.per_image[i].bleu = b.per_image[i];
      out.per_image[i].bleu_counts = b.per_image_counts[i];
    }
    out.bleu_total = b.total;
    out.bleu_ratio = b.ratio;
    for (int k = 0; k < kMaxNgram; ++k) out.metrics.emplace_back("Bleu_" + std::to_string(k + 1), b.corpus[k]);
  }
  out.metrics.insert(out.metrics.end(), meteor_metric.begin(), meteor_metric.end());
  if (opt.metrics.rouge) {
    say(opt, "computing Rouge score...");
    RougeResult r = rouge_score(hyps_tokenized, refs_tokenized, threads);
    for (std::size_t i = 0; i < n; ++i) out.per_image[i].rouge_l = r.per_image[i];
    out.metrics.emplace_back("ROUGE_L", r.mean);
  }
  if (opt.metrics.cider) {
    say(opt, "computing CIDEr score...");
    CiderResult c = cider_d_score(*corpus, threads);
    for (std::size_t i = 0; i < n; ++i) out.per_image[i].cider = c.per_image[i];
    out.metrics.emplace_back("CIDEr", c.mean);
    if (n == 1)
      out.warnings.push_back(
          "CIDEr-D on a single image is 0 by construction (document frequencies come from the evaluated "
          "references, so every n-gram weight is ln(1) - ln(1) = 0); CIDEr needs a corpus of images");
  }
  out.hyps_tokenized = std::move(hyps_tokenized);
  out.refs_tokenized = std::move(refs_tokenized);
  return out;
}

EvalCapResult evaluate(const EvalCapInput& input, const EvalCapOptions& opt) {
  check_shapes(input.image_ids.size(), input.refs.size(), input.hyps.size());
  for (std::size_t i = 0; i < input.refs.size(); ++i)
    if (input.refs[i].empty())
      throw InputError("", "image " + input.image_ids[i].display(),
                       "no reference captions (pycocoevalcap requires at least one per image)");
  const int threads = std::max(1, opt.threads);
  say(opt, "tokenization...");

  // GT captions: image order, then annotation order (the dict iteration of PTBTokenizer.tokenize).
  std::vector<std::string> gt_flat;
  std::size_t total = 0;
  for (const auto& r : input.refs) total += r.size();
  gt_flat.reserve(total);
  for (const auto& r : input.refs) gt_flat.insert(gt_flat.end(), r.begin(), r.end());

  ptb::BatchResult gt_tok;
  try {
    gt_tok = ptb::tokenize_batch(gt_flat, opt.line_breaks, threads);
  } catch (const InputError& e) {
    throw InputError("", "ground-truth captions", e.what());
  }
  ptb::BatchResult res_tok;
  try {
    res_tok = ptb::tokenize_batch(input.hyps, opt.line_breaks, threads);
  } catch (const InputError& e) {
    throw InputError("", "result captions", e.what());
  }

  std::vector<std::vector<std::string>> refs_tok(input.refs.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < input.refs.size(); ++i) {
    refs_tok[i].reserve(input.refs[i].size());
    for (std::size_t j = 0; j < input.refs[i].size(); ++j) refs_tok[i].push_back(std::move(gt_tok.tokenized[k++]));
  }

  EvalCapResult out = score_tokenized(input.image_ids, std::move(refs_tok), std::move(res_tok.tokenized), opt);

  std::vector<std::string> warnings;
  out.gt_captions_with_line_breaks = gt_tok.captions_with_line_breaks;
  out.result_captions_with_line_breaks = res_tok.captions_with_line_breaks;
  if (gt_tok.captions_with_line_breaks > 0)
    warnings.push_back(line_break_warning("ground-truth", gt_tok.captions_with_line_breaks, opt.line_breaks));
  if (res_tok.captions_with_line_breaks > 0)
    warnings.push_back(line_break_warning("result", res_tok.captions_with_line_breaks, opt.line_breaks));
  for (auto& w : gt_tok.warnings) warnings.push_back("PTB tokenizer (ground truth): " + w);
  for (auto& w : res_tok.warnings) warnings.push_back("PTB tokenizer (results): " + w);
  warnings.insert(warnings.end(), out.warnings.begin(), out.warnings.end());
  out.warnings = std::move(warnings);
  return out;
}

}  // namespace glamm::caption
