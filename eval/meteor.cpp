// `glamm-eval meteor`: METEOR 1.5 (coco build, -l en -norm) on `hypothesis ||| ref1 ||| ref2 ...` lines from
// stdin, as pycocoevalcap's Meteor scorer computes it: per-segment scores, then the corpus score from the summed
// sufficient statistics.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "common/result.h"
#include "eval/command.h"
#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "common/java_text.h"
#include "eval/tasks/caption_schema.h"
#include "metrics/parallel.h"
#include "metrics/meteor/meteor.h"

namespace glamm::cli {
namespace {

struct MeteorOptions {
  CommonOptions common;
  bool stats = false;
  std::string resources;
  std::string paraphrase;
};

struct Segment {
  std::string hyp;
  std::vector<std::string> refs;
};

// Parse stdin: one segment per line, "hyp ||| ref1 ||| ref2 ...", parts trimmed as Meteor's stdio loop does.
std::vector<Segment> read_segments(std::istream& in) {
  std::string text;  // read in blocks: a character iterator over std::cin costs a getc/ungetc pair per byte
  std::vector<char> block(std::size_t{1} << 20);
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0)
    text.append(block.data(), static_cast<std::size_t>(in.gcount()));
  std::vector<Segment> segs;
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> parts = java::split_bars(line);
    if (parts.size() < 2)
      throw InputError("<stdin>", "line " + std::to_string(line_no),
                       "expected 'hypothesis ||| reference1 [||| reference2 ...]' (at least one reference)");
    Segment s;
    s.hyp = meteor::pycocoevalcap_clean_hypothesis(java::trim(parts[0]));
    for (std::size_t k = 1; k < parts.size(); ++k) s.refs.push_back(java::trim(parts[k]));
    // The scorer's size limit, checked while reading so that an oversized caption fails before any scoring.
    for (std::size_t k = 0; k <= s.refs.size(); ++k)
      if ((k == 0 ? s.hyp : s.refs[k - 1]).size() > meteor::kMaxSegmentBytes)
        throw InputError("<stdin>", "line " + std::to_string(line_no),
                         std::string("METEOR: ") + (k == 0 ? "hypothesis" : "reference") + " of " +
                             std::to_string((k == 0 ? s.hyp : s.refs[k - 1]).size()) + " bytes is over the limit of " +
                             std::to_string(meteor::kMaxSegmentBytes) +
                             " bytes for one caption (docs/input-rules.md, METEOR: long captions)");
    segs.push_back(std::move(s));
  }
  return segs;
}

void run_meteor(const MeteorOptions& o) {
  Progress progress(o.common.quiet);
  std::vector<std::string> warnings;
  MeteorSetup m = load_meteor(o.resources, o.paraphrase, progress, warnings);
  for (const auto& w : warnings) progress.note("warning: " + w);

  std::vector<Segment> segs = read_segments(std::cin);
  std::vector<meteor::Stats> stats(segs.size());
  const int threads = std::max(1, std::min<int>(resolve_threads(o.common), static_cast<int>(segs.size())));
  progress.start(fmt::format("scoring {} segments with METEOR ({} thread{})...", segs.size(), threads,
                             threads == 1 ? "" : "s"));
  // Each segment is scored independently; results land in their own slot, so the output is thread-count
  // independent, and a failure is that of the first failing line whatever the thread count (metrics::parallel_for).
  metrics::parallel_for(
      segs.size(), threads,
      [&](std::size_t i) {
        try {
          stats[i] = m.scorer->segment_stats(segs[i].hyp, segs[i].refs);
        } catch (const InputError& e) {  // a caption over the METEOR size limits: name its line
          throw InputError("<stdin>", "line " + std::to_string(i + 1), e.message());
        }
      },
      1);
  const double corpus = m.scorer->corpus_score(stats);
  progress.done();

  std::string out;
  if (o.stats) out += "segment_score\tsufficient_statistics (METEOR 1.5's 23 values, its order)\n";
  nlohmann::json per = nlohmann::json::array();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const double s = m.scorer->score(stats[i]);
    out += java::double_to_string(s);
    if (o.stats) out += "\t" + stats[i].to_string();
    out += '\n';
    if (!o.common.json_path.empty())
      per.push_back(tasks::MeteorSample{i, s, std::vector<double>(stats[i].v.begin(), stats[i].v.end())}.to_json());
  }
  out += "corpus METEOR: " + java::double_to_string(corpus) + '\n';
  std::cout << out << std::flush;

  if (!o.common.json_path.empty()) {
    Result r;
    r.task = "meteor";
    r.label = o.common.label;
    r.metrics.emplace_back("METEOR", corpus);
    sign_meteor(r.signature, m);
    r.warnings = warnings;
    r.details["segments"] = segs.size();
    r.details["aggregation"] = "computeMetrics(sum of stats with MeteorStats.addStats)";
    r.details["per_sample_fields"] = tasks::MeteorSample::field_names();
    r.per_sample = std::move(per);
    write_record(o.common.json_path, std::move(r));
  }
}

void add_meteor(CLI::App& app) {
  auto opts = std::make_shared<MeteorOptions>();
  CLI::App* sub = app.add_subcommand(
      "meteor",
      "METEOR 1.5 as pycocoevalcap runs it (-l en -norm): reads 'hypothesis ||| ref1 ||| ref2 ...' lines of "
      "tokenized text on stdin, prints each segment score (one line per input line, Java's number text) and the "
      "corpus score last ('corpus METEOR: X'). A hypothesis or reference over 1 MiB is refused (exit 2), as are pairs "
      "over the aligner's limits (docs/input-rules.md, METEOR: long captions)");
  sub->add_flag("--stats", opts->stats,
                "Also print each segment's 23 sufficient statistics (METEOR's order), after a header line");
  sub->add_option("--meteor-resources", opts->resources,
                  "Folder with english.synsets/.exceptions/.words/.prefixes, or pycocoevalcap's meteor-1.5.jar "
                  "(default: env GLAMM_METEOR_RESOURCES, then an installed pycocoevalcap, then the copy built with "
                  "glamm-eval in share/glamm-eval/meteor)");
  sub->add_option("--meteor-paraphrase", opts->paraphrase,
                  "Paraphrase table paraphrase-en.gz ('-' or 'off' forces the module off; default: found next to the "
                  "resources or in an installed pycocoevalcap, docs/meteor-resources.md)");
  add_common_options(sub, opts->common, "No effect: METEOR's upstream behaviour is the reference");
  sub->callback([opts] { run_meteor(*opts); });
}

}  // namespace

GLAMM_REGISTER_COMMAND(40, add_meteor);

}  // namespace glamm::cli
