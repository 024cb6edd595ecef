// Task `imagecap`: zero-shot image captioning (paper Table 6) on Flickr30k (Karpathy split) and NoCaps (overall and
// per domain, as the NoCaps benchmark reports). COCOEvalCap metrics plus, unless switched off, the SPICE-style score
// (metrics/spice; always labelled "SPICE-style (Link Grammar parser)", never plain SPICE). NoCaps test has no public
// captions: only the submission list can be made (nocaps_submission).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "datasets/regcap.h"
#include "eval/tasks/caption_schema.h"
#include "eval/tasks/caption_tasks.h"
#include "eval/tasks/quirks.h"

namespace glamm::tasks {

/// The split evaluated when none is given: "test" for flickr30k, "val" for nocaps; else `split`.
std::string imagecap_split(const std::string& dataset, const std::string& split);

/// The files of an imagecap run.
struct ImagecapFiles {
  std::string dataset;      ///< "flickr30k" or "nocaps"
  std::string annotations;  ///< dataset_flickr30k.json (Karpathy) or a NoCaps val / test image-info file
  std::string split;        ///< as imagecap_split gives it
  std::string pred;         ///< a predictions list or a folder of them
};

/// Loaded imagecap inputs.
struct ImagecapInputs {
  std::string dataset, split, annotations, pred;
  std::vector<datasets::CaptionSample> samples;  ///< the split's images
  std::vector<caption::ImageId> other_ids;       ///< Flickr30k: images of other splits (predictions ignored)
  std::map<std::string, std::size_t> images_per_split;  ///< Flickr30k
  std::size_t num_sentences = 0, images_not_five_sentences = 0;  ///< Flickr30k
  std::map<std::string, std::size_t> images_per_domain;  ///< NoCaps
  bool submission_only = false;  ///< NoCaps test (or a file without captions): nothing can be scored
  std::vector<datasets::CaptionPrediction> predictions;
  std::vector<std::string> pred_files;  ///< prediction files read, in order
  std::vector<std::string> warnings;    ///< from reading the files
};

/// Read the annotations (datasets/flickr30k or datasets/nocaps) and the predictions. InputError naming file and
/// record; InputError("", "--split") for a NoCaps split other than val and test.
ImagecapInputs load_imagecap_inputs(const ImagecapFiles& files, const TaskProgress& progress = {});

/// NoCaps test: the EvalAI submission list — the predictions paired with the test images under `coverage` (ids
/// checked as for scoring), in image order. Throws InputError as datasets::pair_predictions.
std::vector<NocapsSubmissionEntry> nocaps_submission(const ImagecapInputs& inputs, datasets::Coverage coverage);

struct ImagecapOptions {
  datasets::Coverage coverage = datasets::Coverage::kComplete;
  bool spice = true;    ///< the SPICE-style score (needs meteor.resources)
  bool strict = false;  ///< imagecap_quirks()
  int threads = 1;
  CaptionMeteor meteor;  ///< scorer required
  TaskProgress progress;
};

/// One NoCaps domain, evaluated on its own (IDF from that domain's references).
struct ImagecapDomain {
  std::string name;
  std::vector<std::pair<std::string, double>> metrics;  ///< COCOEvalCap's names and order
  std::optional<double> spice_style;                    ///< mean of the domain's per-image SPICE-style F
  std::size_t num_images = 0;
};

struct ImagecapReport {
  ImagecapOptions options;  ///< as run, without the progress callbacks (meteor.scorer is not used after evaluate)
  std::string dataset, split, annotations;
  std::vector<std::string> pred_files;
  caption::EvalCapResult eval;
  std::optional<SpiceStyleRun> spice;
  std::vector<ImagecapDomain> domains;  ///< NoCaps, name order
  std::vector<std::pair<std::string, double>> metrics;  ///< record order: COCOEvalCap's, SPICE-style, <domain>/CIDEr
  std::map<std::string, std::size_t> images_per_split, images_per_domain;
  std::size_t num_sentences = 0, images_not_five_sentences = 0;
  std::size_t num_split_images = 0, num_predictions = 0, num_missing = 0, num_outside = 0;
  std::vector<CaptionSample> samples;
  std::vector<std::string> warnings;
};

/// Pair the split's images with the predictions under `coverage` and score them (overall, per NoCaps domain, and
/// SPICE-style unless off). Throws InputError for missing predictions (kComplete), unknown or repeated ids, nothing
/// to score, missing scorer/resources, and for submission-only inputs.
ImagecapReport evaluate_imagecap(const ImagecapInputs& inputs, const ImagecapOptions& options);

/// The record (task "imagecap"); reads the input files again for their checksums.
Result to_record(const ImagecapReport& report, const std::string& label);

/// The `--strict` quirks of imagecap (caption line breaks).
const QuirkTable& imagecap_quirks();

}  // namespace glamm::tasks
