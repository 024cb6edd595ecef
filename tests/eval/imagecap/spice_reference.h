// What the library computes for a caption set, for the CLI tests of the SPICE-style score (imagecap, captions
// --spice): the captions go through caption::evaluate (PTB tokenizer + punctuation filter, as the commands do) and
// the tokenized strings through spice::score_corpus with METEOR's english.synsets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "metrics/caption/coco_eval_cap.h"
#include "metrics/meteor/meteor.h"
#include "metrics/spice/spice.h"

namespace glamm::testing::spice_reference {

/// SPICE-style corpus score of raw captions: refs[i] are the references and hyps[i] the candidate of image i.
/// `meteor_dir` holds english.synsets (the shared data/meteor folder).
inline spice::CorpusScore library_spice_style(const std::vector<std::vector<std::string>>& refs,
                                              const std::vector<std::string>& hyps,
                                              const std::filesystem::path& meteor_dir) {
  caption::EvalCapInput in;
  for (std::size_t i = 0; i < hyps.size(); ++i) in.image_ids.push_back(caption::ImageId::of(std::int64_t(i)));
  in.refs = refs;
  in.hyps = hyps;
  caption::EvalCapOptions opt;
  opt.metrics = caption::MetricSet::parse("bleu");
  const caption::EvalCapResult ev = caption::evaluate(in, opt);
  std::vector<spice::ImageInput> images;
  for (std::size_t i = 0; i < hyps.size(); ++i)
    images.push_back({std::to_string(i), ev.hyps_tokenized[i], ev.refs_tokenized[i]});
  auto res = std::make_shared<meteor::Resources>(meteor::Resources::load(meteor_dir.string(), "-"));
  const spice::LinkParser parser;
  return spice::score_corpus(parser, spice::meteor_synsets(res), images, 1);
}

}  // namespace glamm::testing::spice_reference
