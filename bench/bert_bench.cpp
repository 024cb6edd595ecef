// BERT phrase-embedding throughput on CPU (phrases/s): GCG-like phrases (3–12 ids incl. [CLS]/[SEP]) embedded
// one by one (batch 1, as the official evaluate.py does) and batched (length-sorted, padded, masked — what
// BertSimilarity::prepare does), with random weights at the tiny golden size (hidden 32, 2 layers) and at
// bert-base size (hidden 768, 12 layers, 12 heads, intermediate 3072). Optionally a real folder:
//   bert_bench [N_PHRASES (500)] [BERT_DIR or -] [N_PHRASES_BERT_BASE (min(N, 128))]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/bert.h"
#include "model/text_similarity.h"

using glamm::model::BertConfig;
using glamm::model::BertModel;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::vector<int64_t>> phrases(std::size_t n, int64_t vocab) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> len(1, 10);
  std::uniform_int_distribution<int64_t> tok(1000, std::min<int64_t>(vocab, 30000) - 1);
  std::vector<std::vector<int64_t>> out(n);
  for (auto& p : out) {
    p.push_back(101 % vocab);
    for (int k = len(rng); k > 0; --k) p.push_back(tok(rng));
    p.push_back(102 % vocab);
  }
  return out;
}

void run(const char* label, const BertModel& m, std::size_t n) {
  const auto ps = phrases(n, m.config().vocab_size);
  // Batch 1.
  const std::size_t n1 = std::min<std::size_t>(n, m.config().hidden_size >= 768 ? 32 : n);
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < n1; ++k) (void)m.mean_pooled({ps[k]});
  const double one = n1 / seconds_since(t0);
  // Batched like BertSimilarity::prepare: sorted by length, ≤ 4096 padded tokens and ≤ 128 phrases per call.
  auto sorted = ps;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.size() < b.size(); });
  t0 = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < sorted.size();) {
    std::size_t end = k + 1;
    while (end < sorted.size() && end - k < 128 && (end - k + 1) * sorted[end].size() <= 4096) ++end;
    (void)m.mean_pooled(std::vector<std::vector<int64_t>>(sorted.begin() + k, sorted.begin() + end));
    k = end;
  }
  const double batched = sorted.size() / seconds_since(t0);
  std::printf("%-34s batch-1 %9.2f phrases/s   batched %9.2f phrases/s   (%zu phrases)\n", label, one, batched, n);
}

}  // namespace

int main(int argc, char** argv) {
  if (!glamm::model::torch_available()) {
    std::fprintf(stderr, "bert_bench: built without libtorch\n");
    return 1;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 500;
  std::printf("BERT CPU throughput, %u hardware threads\n", std::thread::hardware_concurrency());
  BertConfig tiny;
  tiny.hidden_size = 32;
  tiny.num_hidden_layers = 2;
  tiny.num_attention_heads = 2;
  tiny.intermediate_size = 64;
  run("tiny (32 hidden, 2 layers), random", BertModel::random(tiny, 1), n);
  // bert-base costs ~0.22 GFLOP per token: keep its phrase count modest on small machines.
  const std::size_t n_base = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : std::min<std::size_t>(n, 128);
  run("bert-base size (768, 12 layers), random", BertModel::random(BertConfig::base_uncased(), 1), n_base);
  if (argc > 2 && std::string(argv[2]) != "-") {
    auto t0 = std::chrono::steady_clock::now();
    auto sim = glamm::model::BertSimilarity::load(argv[2]);
    std::printf("loaded %s in %.2f s\n", argv[2], seconds_since(t0));
    const BertConfig c = BertConfig::from_json_file(std::string(argv[2]) + "/config.json");
    run(argv[2], BertModel::load(c, sim->weights_path()), n);
  }
  return 0;
}
