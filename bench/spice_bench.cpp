// SPICE-style (Link Grammar parser) benchmark and tuple dump.
//   spice_bench coco [THREADS [N]] COCO val2017 leave-one-out (5000 candidates, 20,014 refs; captions in the PTB
//                                "final" form of golden/ptb/val2017_captions_ptb.tsv): score, parse counts, wall
//                                and CPU time of the whole process (dictionary + WordNet + METEOR synsets loaded).
//   spice_bench clip             the CLIPScore example (golden/captions/clipscore_example_expected.json) good/bad.
//   spice_bench dump CAPTION...  tuples of each caption.
// env: GLAMM_SHARED (default <source>/../shared), GLAMM_WORDNET (default /usr/share/wordnet).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/io.h"
#include "metrics/meteor/meteor.h"
#include "metrics/spice/spice.h"

namespace {

std::string shared_dir() {
  const char* e = std::getenv("GLAMM_SHARED");
  return e && *e ? e : std::string(GLAMM_SPICE_SHARED_DEFAULT);
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    s = s.substr(1, s.size() - 2);
    std::string o;
    for (std::size_t i = 0; i < s.size(); ++i) {
      o += s[i];
      if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') ++i;
    }
    return o;
  }
  return s;
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

void print_score(const char* label, const glamm::spice::CorpusScore& s) {
  std::printf("%s: %s = %.4f (%zu images)\n", label, glamm::spice::kMetricName, s.spice, s.per_image.size());
  for (std::size_t k = 0; k < s.average.size(); ++k)
    std::printf("  %-12s F %.4f  P %.4f  R %.4f  (tp %d fp %d fn %d, images %d)\n",
                glamm::spice::subset_name(glamm::spice::kSubsets[k]), s.average[k].f, s.average[k].pr,
                s.average[k].re, s.average[k].tp, s.average[k].fp, s.average[k].fn, s.average[k].num_images);
  const auto& c = s.counts;
  std::printf("  captions parsed: %d complete, %d with prefix, %d with null links, %d nouns only, %d empty\n",
              c.complete, c.with_prefix, c.null_links, c.nouns_only, c.empty);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace glamm::spice;
  std::string mode = argc > 1 ? argv[1] : "coco";
  auto t0 = std::chrono::steady_clock::now();
  LinkParser parser;
  if (mode == "dump") {
    for (int i = 2; i < argc; ++i) {
      auto p = parser.parse(argv[i]);
      std::printf("%s | prefix '%s' nulls %d mode %d\n ", argv[i], p.prefix.c_str(), p.null_count,
                  static_cast<int>(p.mode));
      for (const auto& t : p.tuples) std::printf(" %s", display(t).c_str());
      std::printf("\n");
    }
    return 0;
  }
  std::string shared = shared_dir();
  auto res = std::make_shared<glamm::meteor::Resources>(glamm::meteor::Resources::load(shared + "/data/meteor", "-"));
  auto synsets = meteor_synsets(res);
  if (mode == "clip") {
    auto j = nlohmann::json::parse(glamm::io::read_file(shared + "/golden/captions/clipscore_example_expected.json"));
    for (const char* set : {"good", "bad"}) {
      const auto& tok = j[set]["tokenized"];
      std::vector<ImageInput> imgs;
      for (std::size_t i = 0; i < tok["cands"].size(); ++i)
        imgs.push_back({std::to_string(i), tok["cands"][i].get<std::string>(), tok["refs"][i].get<std::vector<std::string>>()});
      auto s = score_corpus(parser, synsets, imgs, 1);
      print_score(set, s);
      std::printf("  published SPICE %.4f\n", j[set].contains("published_4dp") ? j[set]["published_4dp"].value("SPICE", -1.0) : -1.0);
    }
    return 0;
  }
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  long limit = argc > 3 ? std::atol(argv[3]) : -1;  // first N images only (quick timing)
  // Captions by annotation id, in PTB "final" form.
  std::unordered_map<long, std::string> final_by_ann;
  {
    std::ifstream in(shared + "/golden/ptb/val2017_captions_ptb.tsv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::size_t pos = 0, tab;
      while ((tab = line.find('\t', pos)) != std::string::npos) f.push_back(line.substr(pos, tab - pos)), pos = tab + 1;
      f.push_back(line.substr(pos));
      if (f.size() >= 5) final_by_ann[std::stol(f[0])] = unquote(f[4]);
    }
  }
  auto gt = nlohmann::json::parse(glamm::io::read_file(shared + "/golden/captions/coco_val2017_loo_gt.json"));
  auto exp = nlohmann::json::parse(glamm::io::read_file(shared + "/golden/captions/coco_val2017_loo_expected.json"));
  std::vector<ImageInput> imgs;
  std::unordered_map<long, std::size_t> img_index;
  for (const auto& im : gt["images"]) {
    img_index[im["id"].get<long>()] = imgs.size();
    imgs.push_back({std::to_string(im["id"].get<long>()), "", {}});
  }
  for (const auto& a : gt["annotations"]) imgs[img_index.at(a["image_id"].get<long>())].refs.push_back(final_by_ann.at(a["id"].get<long>()));
  const auto& cands = exp["candidate_annotation_ids"];
  for (std::size_t i = 0; i < cands.size() && i < imgs.size(); ++i) imgs[i].candidate = final_by_ann.at(cands[i].get<long>());
  if (limit >= 0 && static_cast<std::size_t>(limit) < imgs.size()) imgs.resize(static_cast<std::size_t>(limit));
  auto t1 = std::chrono::steady_clock::now();
  auto s = score_corpus(parser, synsets, imgs, threads);
  auto t2 = std::chrono::steady_clock::now();
  print_score("coco val2017 leave-one-out", s);
  std::printf("time: load %.2f s, score %.2f s, total wall %.2f s, process CPU %.2f s, threads %d\n",
              std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count(),
              std::chrono::duration<double>(t2 - t0).count(), cpu_seconds(), threads);
  return 0;
}
