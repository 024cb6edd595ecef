#include "metrics/spice/spice.h"

#include <algorithm>
#include <unordered_map>

#include "metrics/parallel.h"

namespace glamm::spice {

CorpusScore score_corpus(const LinkParser& parser, const SynsetLookup& synsets, const std::vector<ImageInput>& images,
                         int threads) {
  // Distinct captions in first-seen order (SPICE parses each distinct string once too).
  std::unordered_map<std::string, std::size_t> index;
  std::vector<const std::string*> unique;
  auto note = [&](const std::string& c) {
    if (index.emplace(c, unique.size()).second) unique.push_back(&c);
  };
  for (const auto& im : images) {
    note(im.candidate);
    for (const auto& r : im.refs) note(r);
  }
  std::vector<CaptionParse> parses(unique.size());
  // Each distinct caption parsed on its own (one per hand-out: parses take milliseconds); a parser error is that of
  // the first failing caption whatever the thread count.
  metrics::parallel_for(unique.size(), threads, [&](std::size_t i) { parses[i] = parser.parse(*unique[i]); }, 1);

  CorpusScore out;
  for (std::size_t i = 0; i < unique.size(); ++i) {
    const auto& p = parses[i];
    if (p.mode == ParseMode::Complete) {
      (p.prefix.empty() ? out.counts.complete : out.counts.with_prefix)++;
    } else if (p.mode == ParseMode::NullLinks) {
      out.counts.null_links++;
    } else if (unique[i]->find_first_not_of(" \t\r\n") == std::string::npos) {
      out.counts.empty++;
    } else {
      out.counts.nouns_only++;
    }
  }
  std::vector<std::vector<Evaluation>> by_subset(std::size(kSubsets));
  for (const auto& im : images) {
    SceneGraph cand(synsets), ref(synsets);
    for (const auto& t : parses[index.at(im.candidate)].tuples) cand.add_tuple(t);
    for (const auto& r : im.refs)
      for (const auto& t : parses[index.at(r)].tuples) ref.add_tuple(t);
    ImageScore s{im.id, score_image(cand, ref)};
    for (std::size_t k = 0; k < s.scores.size(); ++k) by_subset[k].push_back(s.scores[k]);
    out.per_image.push_back(std::move(s));
  }
  for (const auto& v : by_subset) out.average.push_back(macro_average(v));
  double sum = 0;
  for (const auto& s : out.per_image) sum += s.scores[0].f;
  out.spice = images.empty() ? 0.0 : sum / static_cast<double>(images.size());
  return out;
}

}  // namespace glamm::spice
