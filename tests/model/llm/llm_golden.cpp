// LLaMA decoder + GLaMM generation against the golden fp32 reference (shared golden/model), both images:
// prefill inputs_embeds (image splice, <bbox> region vectors), greedy ids / sequences / per-step argmax exact,
// top-5 logits within 1e-3, per-step last hidden, last-step hidden states and [SEG] vectors within
// 1e-4 × (1 + max|ref|), with the KV cache and with full recomputation; the teacher-forced RefSeg forward.
// Inputs come from the golden tensors (projector.out, region.vectors, input_ids), so only the LLM is tested.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/safetensors.h"
#include "support/torch_golden.h"
#include "model/generation.h"
#include "model/glamm_config.h"
#include "model/llama.h"
#include "model/weights.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using namespace glamm::model;
using glamm::testing::expect_close;
using glamm::testing::golden_ids;
using glamm::testing::golden_tensor;

namespace {

struct TinyLlm {
  GlammConfig config;
  std::unique_ptr<Llama> llm;
};

/// The tiny LLM, loaded once per test program.
const TinyLlm& tiny_llm(const fs::path& root) {
  static std::unique_ptr<TinyLlm> m;
  if (!m) {
    m = std::make_unique<TinyLlm>();
    m->config = GlammConfig::from_json_file(root / "tiny-glamm" / "config.json");
    WeightStore ws = WeightStore::open(root / "tiny-glamm");
    m->config.check_shapes(shape_lookup(ws), (root / "tiny-glamm" / "config.json").string());
    m->llm = std::make_unique<Llama>(Llama::load(ws, m->config.llm));
    ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head."});
  }
  return *m;
}

/// The same tiny LLM in bf16 compute mode (Llama::set_compute_dtype), loaded once.
const Llama& tiny_llm_bf16(const fs::path& root) {
  static std::unique_ptr<Llama> m;
  if (!m) {
    const GlammConfig& config = tiny_llm(root).config;
    WeightStore ws = WeightStore::open(root / "tiny-glamm");
    m = std::make_unique<Llama>(Llama::load(ws, config.llm));
    ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head."});
    m->set_compute_dtype(at::kBFloat16);
  }
  return *m;
}

SpecialIds special_of(const GlammConfig& c) {
  SpecialIds s;
  s.bbox = c.bbox_token_id;
  s.seg = c.seg_token_id;
  s.eos = c.eos_token_id;
  return s;
}

struct Case {
  std::string task, image;
  std::string name() const { return task + "__" + image; }
};

// Readable parameter in ctest names and failure messages (gtest would print the struct's raw bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << c.task << " on " << c.image; }

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  std::string n = i.param.name();
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

class GenerationGolden : public ::testing::TestWithParam<Case> {};

/// Top-5 logits within 1e-3; ids compared where the logit is not tied (ties among the zeroed lm_head rows have no
/// defined order) — and the top-1 id always.
void expect_top5(const GenerationTrace& tr, const glamm::safetensors::File& g, const std::string& what) {
  const at::Tensor ref_ids = golden_tensor(g, "gen.step_top5_ids");
  const at::Tensor ref_logits = golden_tensor(g, "gen.step_top5_logits");
  expect_close(tr.top_logits, ref_logits, what + " step top5 logits", 0, 1e-3);
  if (tr.top_ids.sizes() != ref_ids.sizes()) return;
  for (int64_t s = 0; s < ref_ids.size(0); ++s)
    for (int64_t r = 0; r < ref_ids.size(1); ++r) {
      const float l = ref_logits[s][r].item<float>();
      const bool tied = (r > 0 && std::abs(ref_logits[s][r - 1].item<float>() - l) < 1e-3) ||
                        (r + 1 < ref_ids.size(1) && std::abs(ref_logits[s][r + 1].item<float>() - l) < 1e-3);
      if (r == 0 || !tied) {
        EXPECT_EQ(tr.top_ids[s][r].item<int64_t>(), ref_ids[s][r].item<int64_t>())
            << what << " step " << s << " rank " << r;
      }
    }
}

TEST_P(GenerationGolden, GreedyDecodingMatchesReferenceWithAndWithoutKvCache) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  const TinyLlm& m = tiny_llm(root);
  const Case c = GetParam();
  const auto img = glamm::safetensors::File::open(root / "golden" / ("image__" + c.image + ".safetensors"));
  const auto g = glamm::safetensors::File::open(root / "golden" / (c.name() + ".safetensors"));
  const std::vector<int64_t> prompt = golden_ids(g, "input_ids");
  const at::Tensor image_vectors = golden_tensor(img, "projector.out");
  const at::Tensor regions = g.find("region.vectors") ? golden_tensor(g, "region.vectors") : at::Tensor();
  const SpecialIds special = special_of(m.config);

  const at::Tensor embeds = build_inputs_embeds(*m.llm, prompt, image_vectors, regions, special);
  expect_close(embeds, golden_tensor(g, "llm.prefill_inputs_embeds"), c.name() + " prefill inputs_embeds");

  const std::vector<int64_t> ref_generated = golden_ids(g, "gen.generated_ids");
  std::vector<int64_t> ref_sequence = golden_ids(g, "gen.sequences");
  for (bool kv : {true, false}) {
    const std::string what = c.name() + (kv ? " [kv]" : " [full]");
    GenerateOptions opt;
    opt.max_new_tokens = 512;
    opt.kv_cache = kv;
    opt.special = special;
    const GenerationTrace tr = greedy_generate(*m.llm, prompt, embeds, opt);
    EXPECT_EQ(tr.generated_ids, ref_generated) << what;
    EXPECT_EQ(tr.generated_ids, golden_ids(g, "gen.step_argmax")) << what;
    std::vector<int64_t> seq = prompt;
    seq.insert(seq.end(), tr.generated_ids.begin(), tr.generated_ids.end());
    EXPECT_EQ(seq, ref_sequence) << what;
    EXPECT_EQ(tr.generated_ids.back(), m.config.eos_token_id) << what;
    expect_top5(tr, g, what);
    expect_close(tr.step_last_hidden, golden_tensor(g, "gen.step_last_hidden"), what + " step last hidden");
    expect_close(tr.final_step_hidden, golden_tensor(g, "llm.final_step_hidden_states"), what + " final step hidden");
    EXPECT_EQ(tr.seg_rows, golden_ids(g, "seg.positions_in_final_step_hidden")) << what;
    expect_close(tr.seg_hidden, golden_tensor(g, "seg.hidden"), what + " seg hidden");
    // Spec §4.4: each [SEG] vector is the last-position state of the step that produced that [SEG].
    int64_t n_seg = 0;
    for (std::size_t s = 0; s < tr.generated_ids.size(); ++s)
      if (tr.generated_ids[s] == m.config.seg_token_id) {
        ASSERT_LT(n_seg, tr.seg_hidden.size(0)) << what;
        EXPECT_LE((tr.seg_hidden[n_seg++] - tr.step_last_hidden[static_cast<int64_t>(s)]).abs().max().item<double>(),
                  1e-5)
            << what << " step " << s;
      }
    EXPECT_EQ(n_seg, tr.seg_hidden.size(0)) << what;
    EXPECT_EQ(n_seg, c.task == "gcg" ? 2 : 0) << what;
    std::cout << "[timing] " << what << ": prefill " << tr.prefill_tokens << " tokens " << tr.prefill_seconds
              << " s, decode " << tr.generated_ids.size() - 1 << " tokens " << tr.decode_seconds << " s\n";
  }
}

// bf16 compute (the official run's precision, emulated on the CPU) against the fp32 golden reference. The official
// bf16 GPU run cannot be reproduced bit for bit (glamm-model.md §8), so this reports agreement: the tokens are equal,
// or they diverge first at a step where the fp32 reference's top-2 logit margin is within bf16's reach. A
// divergence at a step with a clear margin would be a bug in the bf16 path, and fails.
TEST_P(GenerationGolden, Bf16AgreesWithTheFp32ReferenceOrDivergesOnlyAtANearTie) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  const TinyLlm& m = tiny_llm(root);
  const Llama& llm = tiny_llm_bf16(root);
  const Case c = GetParam();
  const auto img = glamm::safetensors::File::open(root / "golden" / ("image__" + c.image + ".safetensors"));
  const auto g = glamm::safetensors::File::open(root / "golden" / (c.name() + ".safetensors"));
  const std::vector<int64_t> prompt = golden_ids(g, "input_ids");
  const at::Tensor regions = g.find("region.vectors") ? golden_tensor(g, "region.vectors") : at::Tensor();
  const at::Tensor embeds =
      build_inputs_embeds(llm, prompt, golden_tensor(img, "projector.out"), regions, special_of(m.config));
  GenerateOptions opt;
  opt.max_new_tokens = 512;
  opt.special = special_of(m.config);
  const GenerationTrace tr = greedy_generate(llm, prompt, embeds, opt);
  const std::vector<int64_t> ref = golden_ids(g, "gen.generated_ids");
  const at::Tensor ref_logits = golden_tensor(g, "gen.step_top5_logits");
  std::size_t same = 0;
  while (same < ref.size() && same < tr.generated_ids.size() && ref[same] == tr.generated_ids[same]) ++same;
  // The first step's last hidden state (same prompt, so same positions) within bf16's precision.
  const at::Tensor a = tr.step_last_hidden[0], b = golden_tensor(g, "gen.step_last_hidden")[0];
  const double cosine = ((a * b).sum() / (a.norm() * b.norm())).item<double>();
  EXPECT_GT(cosine, 0.99) << c.name();
  if (same == ref.size() && same == tr.generated_ids.size()) {
    std::cout << "[bf16] " << c.name() << ": all " << same << " tokens equal to fp32; first-step hidden cosine "
              << cosine << "\n";
    return;
  }
  ASSERT_LT(same, ref.size()) << c.name() << ": bf16 generated more tokens than the reference";
  const double margin = (ref_logits[static_cast<int64_t>(same)][0] - ref_logits[static_cast<int64_t>(same)][1])
                            .item<double>();
  std::cout << "[bf16] " << c.name() << ": first divergence at step " << same << " of " << ref.size()
            << " (fp32 " << ref[same] << ", bf16 "
            << (same < tr.generated_ids.size() ? tr.generated_ids[same] : int64_t{-1})
            << "), fp32 top-2 logit margin there " << margin << "; first-step hidden cosine " << cosine << "\n";
  // bf16 logits of magnitude |l| are rounded to 2^-8·|l|; allow a few of those steps plus the accumulated drift.
  const double scale = ref_logits[static_cast<int64_t>(same)][0].abs().item<double>();
  EXPECT_LT(margin, 0.05 * scale + 0.05) << c.name() << ": diverged where fp32 had a clear margin";
}

INSTANTIATE_TEST_SUITE_P(AllGenerationCases, GenerationGolden,
                         ::testing::Values(Case{"gcg", "COCO_val2014_000000391895"}, Case{"gcg", "surfer"},
                                           Case{"regcap1", "COCO_val2014_000000391895"}, Case{"regcap1", "surfer"},
                                           Case{"regcap2", "COCO_val2014_000000391895"}, Case{"regcap2", "surfer"}),
                         case_name);

class TeacherForcedGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TeacherForcedGolden, RefSegForwardAndSegVectorsMatchReference) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  const TinyLlm& m = tiny_llm(root);
  const std::string name = "refseg_tf__" + GetParam();
  const auto img = glamm::safetensors::File::open(root / "golden" / ("image__" + GetParam() + ".safetensors"));
  const auto g = glamm::safetensors::File::open(root / "golden" / (name + ".safetensors"));
  const std::vector<int64_t> ids = golden_ids(g, "input_ids");
  const TeacherForcedTrace tr =
      teacher_forced(*m.llm, ids, golden_tensor(img, "projector.out"), at::Tensor(), special_of(m.config));
  expect_close(tr.inputs_embeds, golden_tensor(g, "llm.inputs_embeds"), name + " inputs_embeds");
  expect_close(tr.hidden, golden_tensor(g, "llm.final_hidden_states"), name + " final hidden states");
  EXPECT_EQ(tr.seg_rows, golden_ids(g, "seg.positions_in_hidden")) << name;
  EXPECT_EQ(tr.seg_rows.size(), 2u) << name;  // one [SEG] per answer, both rounds gathered
  expect_close(tr.seg_hidden, golden_tensor(g, "seg.hidden"), name + " seg hidden");
}

INSTANTIATE_TEST_SUITE_P(BothImages, TeacherForcedGolden, ::testing::Values("COCO_val2014_000000391895", "surfer"));

TEST(KvCacheEquivalence, PrefillThenDecodeEqualsFullRecomputationPerPosition) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  const TinyLlm& m = tiny_llm(root);
  const auto img = glamm::safetensors::File::open(root / "golden" / "image__surfer.safetensors");
  const auto g = glamm::safetensors::File::open(root / "golden" / "gcg__surfer.safetensors");
  const at::Tensor embeds = build_inputs_embeds(*m.llm, golden_ids(g, "input_ids"), golden_tensor(img, "projector.out"));
  const std::vector<int64_t> generated = golden_ids(g, "gen.generated_ids");
  at::Tensor full = at::cat({embeds, m.llm->embed(at::tensor(generated, at::kLong))}, 0);
  const at::Tensor ref = m.llm->forward(full, nullptr);
  // Prefill in two uneven chunks, then one token at a time.
  KvCache cache;
  std::vector<at::Tensor> parts;
  parts.push_back(m.llm->forward(full.narrow(0, 0, 100), &cache));
  parts.push_back(m.llm->forward(full.narrow(0, 100, embeds.size(0) - 100), &cache));
  for (int64_t t = embeds.size(0); t < full.size(0); ++t) parts.push_back(m.llm->forward(full.narrow(0, t, 1), &cache));
  EXPECT_EQ(cache.length(), full.size(0));
  const at::Tensor got = at::cat(parts, 0);
  expect_close(got, ref, "kv cache vs full recomputation (hidden)");
  expect_close(m.llm->logits(got), m.llm->logits(ref), "kv cache vs full recomputation (logits)");
  cache.clear();
  EXPECT_EQ(cache.length(), 0);
}

}  // namespace

// Batched generation (--batch-size): the six golden prompts (GCG and region captioning, both images: different
// lengths, region vectors, [SEG]s, different EOS steps) decoded together in batches of 4 (and one of 2) give every
// prompt bit for bit what it gets alone — tokens, step logits, hidden states, [SEG] vectors — in fp32 and in bf16.
TEST(BatchedGenerationGolden, BatchOf4EqualsBatchOf1OnEveryGoldenPrompt) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  const TinyLlm& m = tiny_llm(root);
  const std::vector<Case> cases = {{"gcg", "COCO_val2014_000000391895"}, {"gcg", "surfer"},
                                   {"regcap1", "COCO_val2014_000000391895"}, {"regcap1", "surfer"},
                                   {"regcap2", "COCO_val2014_000000391895"}, {"regcap2", "surfer"}};
  for (const Llama* llm : {static_cast<const Llama*>(m.llm.get()), &tiny_llm_bf16(root)}) {
    const std::string mode = llm->compute_dtype() == at::kBFloat16 ? "bf16" : "fp32";
    std::vector<std::vector<int64_t>> prompts;
    std::vector<at::Tensor> embeds;
    for (const Case& c : cases) {
      const auto img = glamm::safetensors::File::open(root / "golden" / ("image__" + c.image + ".safetensors"));
      const auto g = glamm::safetensors::File::open(root / "golden" / (c.name() + ".safetensors"));
      prompts.push_back(golden_ids(g, "input_ids"));
      const at::Tensor regions = g.find("region.vectors") ? golden_tensor(g, "region.vectors") : at::Tensor();
      embeds.push_back(
          build_inputs_embeds(*llm, prompts.back(), golden_tensor(img, "projector.out"), regions, special_of(m.config)));
    }
    GenerateOptions opt;
    opt.max_new_tokens = 512;
    opt.special = special_of(m.config);
    std::vector<GenerationTrace> alone;
    for (std::size_t i = 0; i < cases.size(); ++i) alone.push_back(greedy_generate(*llm, prompts[i], embeds[i], opt));
    std::size_t done = 0;
    for (std::size_t size : {std::size_t{4}, std::size_t{2}}) {
      const std::vector<std::vector<int64_t>> p(prompts.begin() + done, prompts.begin() + done + size);
      const std::vector<at::Tensor> e(embeds.begin() + done, embeds.begin() + done + size);
      const std::vector<GenerationTrace> got = greedy_generate_batch(*llm, p, e, opt);
      ASSERT_EQ(got.size(), size);
      for (std::size_t j = 0; j < size; ++j) {
        const GenerationTrace& a = alone[done + j];
        const GenerationTrace& b = got[j];
        const std::string what = mode + " " + cases[done + j].name() + " in a batch of " + std::to_string(size);
        EXPECT_EQ(b.generated_ids, a.generated_ids) << what;
        EXPECT_TRUE(at::equal(b.top_logits, a.top_logits)) << what;
        EXPECT_TRUE(at::equal(b.top_ids, a.top_ids)) << what;
        EXPECT_TRUE(at::equal(b.step_last_hidden, a.step_last_hidden)) << what;
        EXPECT_TRUE(at::equal(b.final_step_hidden, a.final_step_hidden)) << what;
        EXPECT_EQ(b.seg_rows, a.seg_rows) << what;
        EXPECT_TRUE(at::equal(b.seg_hidden, a.seg_hidden)) << what;
      }
      done += size;
    }
    // The sequences really ended at different steps (the batch shrank while decoding).
    EXPECT_NE(alone[0].generated_ids.size(), alone[2].generated_ids.size());
  }
}
