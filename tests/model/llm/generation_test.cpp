// Unit tests of the LLM pieces on small random-weight models (no shared data): KV cache vs full recomputation,
// the prefill splice and <bbox> replacement rules, the [SEG] row formula, generation limits, RMSNorm / RoPE
// definitions, and config.json reading.
#include <unistd.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/generation.h"
#include "model/glamm_config.h"
#include "model/llama.h"

namespace fs = std::filesystem;
using namespace glamm::model;

namespace {

LlamaConfig small_config() {
  LlamaConfig c;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 4;
  c.vocab_size = 40;
  c.max_position_embeddings = 256;
  return c;
}

SpecialIds small_special() {
  SpecialIds s;
  s.bbox = 30;
  s.seg = 31;
  s.eos = 2;
  return s;
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(LlamaKvCache, DecodingWithTheCacheEqualsFullRecomputation) {
  const Llama llm = Llama::random(small_config(), at::kBFloat16, 7);
  const at::Tensor x = at::randn({20, 32}, at::kFloat);
  const at::Tensor ref = llm.forward(x);
  KvCache cache;
  std::vector<at::Tensor> parts{llm.forward(x.narrow(0, 0, 7), &cache), llm.forward(x.narrow(0, 7, 5), &cache)};
  for (int64_t t = 12; t < 20; ++t) parts.push_back(llm.forward(x.narrow(0, t, 1), &cache));
  EXPECT_EQ(cache.length(), 20);
  EXPECT_GT(cache.bytes(), 0);
  EXPECT_LT(max_abs_diff(at::cat(parts, 0), ref), 1e-5);
}

TEST(LlamaKvCache, LaterTokensDoNotChangeEarlierHiddenStates) {
  const Llama llm = Llama::random(small_config(), at::kFloat, 3);
  const at::Tensor x = at::randn({10, 32}, at::kFloat);
  const at::Tensor a = llm.forward(x.narrow(0, 0, 6));
  const at::Tensor b = llm.forward(x).narrow(0, 0, 6);
  EXPECT_LT(max_abs_diff(a, b), 1e-5);
}

TEST(LlamaForward, MovingToTheDeviceItIsOnKeepsResultsAndTheKvCacheFollowsTheWeights) {
  Llama llm = Llama::random(small_config(), at::kBFloat16, 4);
  const at::Tensor x = at::randn({6, 32}, at::kFloat);
  const at::Tensor before = llm.forward(x);
  llm.to(c10::Device(c10::kCPU));
  EXPECT_TRUE(llm.device().is_cpu());
  KvCache cache;
  EXPECT_TRUE(at::equal(llm.forward(x, &cache), before));
  EXPECT_EQ(cache.bytes(), 2 * 2 * 4 * 256 * 8 * 4);  // 2 layers × K,V × [4 heads, 256 capacity, 8] fp32
}

TEST(LlamaForward, RejectsBadShapesAndIdsAndOverlongSequences) {
  LlamaConfig c = small_config();
  c.max_position_embeddings = 8;
  const Llama llm = Llama::random(c, at::kFloat, 1);
  EXPECT_THROW(llm.forward(at::zeros({3, 31})), std::invalid_argument);
  EXPECT_THROW(llm.forward(at::zeros({0, 32})), std::invalid_argument);
  EXPECT_THROW(llm.forward(at::zeros({9, 32})), std::length_error);
  EXPECT_THROW(llm.embed(at::tensor({1, 40}, at::kLong)), std::invalid_argument);
  EXPECT_THROW(llm.embed(at::tensor({-200}, at::kLong)), std::invalid_argument);
  KvCache cache;
  llm.forward(at::zeros({8, 32}), &cache);
  EXPECT_THROW(llm.forward(at::zeros({1, 32}), &cache), std::length_error);
}

LlamaConfig mid_config() {
  LlamaConfig c = small_config();
  c.hidden_size = 256;
  c.intermediate_size = 688;  // not a multiple of 32: the GEMV tails
  c.num_attention_heads = 4;
  c.num_key_value_heads = 4;
  return c;
}

bool representable_in_bf16(const at::Tensor& t) { return at::equal(t, t.to(at::kBFloat16).to(at::kFloat)); }

TEST(LlamaBf16, ForwardFollowsFp32WithinBf16PrecisionAndReturnsBf16Values) {
  Llama fp32 = Llama::random(mid_config(), at::kBFloat16, 21);
  Llama bf16 = Llama::random(mid_config(), at::kBFloat16, 21);
  bf16.set_compute_dtype(at::kBFloat16);
  EXPECT_EQ(bf16.compute_dtype(), at::kBFloat16);
  EXPECT_EQ(fp32.compute_dtype(), at::kFloat);
  const at::Tensor x = at::randn({24, 256}, at::kFloat);
  const at::Tensor a = fp32.forward(x), b = bf16.forward(x);
  EXPECT_EQ(b.scalar_type(), at::kFloat);
  EXPECT_TRUE(representable_in_bf16(b));
  EXPECT_FALSE(at::equal(a, b));  // really another precision
  // Per row: cosine similarity of the final hidden states; bf16 keeps ~3 significant digits per op.
  const at::Tensor cosine = (a * b).sum(-1) / (a.norm(2, -1) * b.norm(2, -1));
  EXPECT_GT(cosine.min().item<double>(), 0.995);
  const at::Tensor la = fp32.logits(a), lb = bf16.logits(b);
  EXPECT_TRUE(representable_in_bf16(lb));
  EXPECT_LT(max_abs_diff(la, lb), 0.05 * la.abs().max().item<double>());
  EXPECT_THROW(bf16.set_compute_dtype(at::kFloat), std::invalid_argument);
  EXPECT_THROW(fp32.set_compute_dtype(at::kHalf), std::invalid_argument);
}

TEST(LlamaBf16, CachedDecodeAgreesWithFullRecomputationAndIgnoresTheThreadCount) {
  Llama llm = Llama::random(mid_config(), at::kBFloat16, 5);
  llm.set_compute_dtype(at::kBFloat16);
  const at::Tensor x = at::randn({16, 256}, at::kFloat);
  const at::Tensor ref = llm.forward(x);  // 16 rows: at::linear (oneDNN bf16) everywhere
  const int threads = at::get_num_threads();
  std::vector<at::Tensor> runs;
  for (int n : {1, 2, 3}) {
    at::set_num_threads(n);
    KvCache cache;
    std::vector<at::Tensor> parts{llm.forward(x.narrow(0, 0, 10), &cache)};
    for (int64_t t = 10; t < 16; ++t) parts.push_back(llm.forward(x.narrow(0, t, 1), &cache));  // GEMV kernels
    EXPECT_EQ(cache.bytes(), 2 * 2 * 4 * 256 * 64 * 2);  // 2 layers × K,V × [4 heads, 256 capacity, 64] bf16
    runs.push_back(at::cat(parts, 0));
  }
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(runs[0], runs[1]));
  EXPECT_TRUE(at::equal(runs[0], runs[2]));
  // Decoded rows: another summation order than oneDNN's, so bf16-rounding-level differences only.
  const at::Tensor cosine = (runs[0] * ref).sum(-1) / (runs[0].norm(2, -1) * ref.norm(2, -1));
  EXPECT_GT(cosine.min().item<double>(), 0.999);
}

TEST(LlamaBatch, EverySequenceGetsBitForBitWhatItGetsAlone) {
  // fp32 compute with bf16 weights (up-cast per use), fp32 compute with fp32 weights, bf16 compute.
  for (int mode = 0; mode < 3; ++mode) {
    Llama llm = Llama::random(mid_config(), mode == 1 ? at::kFloat : at::kBFloat16, 31);
    if (mode == 2) llm.set_compute_dtype(at::kBFloat16);
    const std::string what = mode == 0 ? "fp32/bf16 weights" : mode == 1 ? "fp32" : "bf16";
    // Three sequences with prompts of different lengths, then decoded one token at a time together; a fourth
    // joins late with a multi-row step (a prefill inside a batch).
    const std::vector<int64_t> prompt = {9, 4, 13, 6};
    std::vector<at::Tensor> xs;
    for (int64_t n : prompt) xs.push_back(at::randn({n + 5, 256}, at::kFloat));
    std::vector<KvCache> alone(4), together(4);
    for (std::size_t b = 0; b < 3; ++b) {
      const at::Tensor a = llm.forward(xs[b].narrow(0, 0, prompt[b]), &alone[b]);
      const at::Tensor t = llm.forward_batch({xs[b].narrow(0, 0, prompt[b])}, {&together[b]})[0];
      ASSERT_TRUE(at::equal(a, t)) << what << " prefill " << b;
    }
    for (int64_t step = 0; step < 4; ++step) {
      std::vector<at::Tensor> in;
      std::vector<KvCache*> caches;
      for (std::size_t b = 0; b < 3; ++b) {
        in.push_back(xs[b].narrow(0, prompt[b] + step, 1));
        caches.push_back(&together[b]);
      }
      if (step == 2) {  // the fourth sequence's whole prompt in the same pass
        in.push_back(xs[3].narrow(0, 0, prompt[3]));
        caches.push_back(&together[3]);
      }
      const std::vector<at::Tensor> got = llm.forward_batch(in, caches);
      ASSERT_EQ(got.size(), in.size());
      for (std::size_t b = 0; b < in.size(); ++b) {
        const at::Tensor want = llm.forward(in[b], &alone[b]);
        ASSERT_TRUE(at::equal(got[b], want)) << what << " step " << step << " sequence " << b;
      }
      // lm_head over the batch's last rows: each row as alone.
      std::vector<at::Tensor> last;
      for (const at::Tensor& g : got) last.push_back(g[g.size(0) - 1]);
      const at::Tensor lg = llm.logits_rows(at::stack(last, 0));
      for (std::size_t b = 0; b < last.size(); ++b)
        ASSERT_TRUE(at::equal(lg[static_cast<int64_t>(b)], llm.logits(last[b].unsqueeze(0))[0])) << what << " logits " << b;
    }
    for (std::size_t b = 0; b < 3; ++b) EXPECT_EQ(together[b].length(), alone[b].length());
  }
  Llama llm = Llama::random(mid_config(), at::kFloat, 1);
  KvCache c;
  EXPECT_THROW(llm.forward_batch({}, {}), std::invalid_argument);
  EXPECT_THROW(llm.forward_batch({at::randn({1, 256}), at::randn({1, 256})}, {&c, &c}), std::invalid_argument);
  EXPECT_THROW(llm.forward_batch({at::randn({1, 256})}, {&c, nullptr}), std::invalid_argument);
}

TEST(LlamaForward, FinalRmsNormWithUnitWeightGivesUnitMeanSquareRows) {
  // model.norm with weight 1: x · rsqrt(mean(x²) + eps) has mean square 1 − eps/mean(x²) ≈ 1.
  const Llama llm = Llama::random(small_config(), at::kFloat, 11);
  const at::Tensor h = llm.forward(at::randn({5, 32}, at::kFloat));
  const at::Tensor ms = h.pow(2).mean(-1);
  EXPECT_LT((ms - 1).abs().max().item<double>(), 1e-4);
}

TEST(PrefillSplice, ImageVectorsReplaceThePlaceholderAndBboxRowsGetRegionsInOrder) {
  const Llama llm = Llama::random(small_config(), at::kFloat, 5);
  const SpecialIds sp = small_special();
  const std::vector<int64_t> ids = {1, 5, -200, 6, 30, 7, 30, 8};
  const at::Tensor img = at::randn({4, 32}, at::kFloat);
  const at::Tensor regions = at::randn({3, 32}, at::kFloat);  // one extra box: dropped
  const at::Tensor e = build_inputs_embeds(llm, ids, img, regions, sp);
  ASSERT_EQ(e.sizes().vec(), (std::vector<int64_t>{11, 32}));
  const at::Tensor tok = llm.embed(at::tensor({1, 5, 6, 7, 8}, at::kLong));
  EXPECT_TRUE(at::equal(e[0], tok[0]));
  EXPECT_TRUE(at::equal(e[1], tok[1]));
  EXPECT_TRUE(at::equal(e.narrow(0, 2, 4), img));
  EXPECT_TRUE(at::equal(e[6], tok[2]));
  EXPECT_TRUE(at::equal(e[7], regions[0]));  // first <bbox> (ids[4] → row 4 + 3)
  EXPECT_TRUE(at::equal(e[8], tok[3]));
  EXPECT_TRUE(at::equal(e[9], regions[1]));  // second <bbox>
  EXPECT_TRUE(at::equal(e[10], tok[4]));
}

TEST(PrefillSplice, MoreBboxTokensThanRegionsIsAnInputErrorAndImagePlaceholderMustBeUnique) {
  const Llama llm = Llama::random(small_config(), at::kFloat, 5);
  const SpecialIds sp = small_special();
  const at::Tensor img = at::randn({4, 32}, at::kFloat);
  EXPECT_THROW(build_inputs_embeds(llm, {1, -200, 30, 30}, img, at::randn({1, 32}), sp), glamm::InputError);
  EXPECT_THROW(build_inputs_embeds(llm, {1, -200, 30}, img, at::Tensor(), sp), glamm::InputError);
  EXPECT_THROW(build_inputs_embeds(llm, {1, 5, 6}, img, at::Tensor(), sp), std::invalid_argument);
  EXPECT_THROW(build_inputs_embeds(llm, {1, -200, 6, -200}, img, at::Tensor(), sp), std::invalid_argument);
  EXPECT_THROW(build_inputs_embeds(llm, {1, -200}, at::randn({4, 31}), at::Tensor(), sp), std::invalid_argument);
}

TEST(SegRows, PositionPrecedingEachSegWithThe575Offset) {
  // GLaMM: mask = [0]*575 ++ (S[1:] == [SEG]); [SEG] at S[j+1] → row j + 575.
  const std::vector<int64_t> s = {1, 5, -200, 6, 32004, 7, 32004};
  EXPECT_EQ(seg_hidden_rows(s, 576), (std::vector<int64_t>{3 + 575, 5 + 575}));
  EXPECT_TRUE(seg_hidden_rows({1, -200, 5, 2}, 576).empty());
}

TEST(GreedyGenerate, StopsAtMaxNewTokensAndRecordsEveryStep) {
  const Llama llm = Llama::random(small_config(), at::kFloat, 9);
  SpecialIds sp = small_special();
  sp.eos = 1000;  // never produced: the limit stops decoding
  const std::vector<int64_t> ids = {1, -200, 5, 6};
  const at::Tensor e = build_inputs_embeds(llm, ids, at::randn({4, 32}), at::Tensor(), sp);
  GenerateOptions opt;
  opt.max_new_tokens = 6;
  opt.special = sp;
  const GenerationTrace kv = greedy_generate(llm, ids, e, opt);
  opt.kv_cache = false;
  const GenerationTrace full = greedy_generate(llm, ids, e, opt);
  EXPECT_EQ(kv.generated_ids.size(), 6u);
  EXPECT_EQ(kv.generated_ids, full.generated_ids);
  EXPECT_EQ(kv.top_ids.sizes().vec(), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(kv.step_last_hidden.sizes().vec(), (std::vector<int64_t>{6, 32}));
  // Last step saw prompt (7 expanded rows) + 5 generated tokens.
  EXPECT_EQ(kv.final_step_hidden.sizes().vec(), (std::vector<int64_t>{12, 32}));
  EXPECT_LT(max_abs_diff(kv.final_step_hidden, full.final_step_hidden), 1e-5);
  EXPECT_LT(max_abs_diff(kv.top_logits, full.top_logits), 1e-4);
  for (std::size_t s = 0; s < kv.generated_ids.size(); ++s)
    EXPECT_EQ(kv.generated_ids[s], kv.top_ids[static_cast<int64_t>(s)][0].item<int64_t>());
  opt.max_new_tokens = 0;
  EXPECT_TRUE(greedy_generate(llm, ids, e, opt).generated_ids.empty());
}

TEST(GreedyGenerate, EosEndsDecodingAndIsIncluded) {
  const Llama llm = Llama::random(small_config(), at::kFloat, 9);
  SpecialIds sp = small_special();
  const std::vector<int64_t> ids = {1, -200, 5, 6};
  const at::Tensor e = build_inputs_embeds(llm, ids, at::randn({4, 32}), at::Tensor(), sp);
  GenerateOptions opt;
  opt.max_new_tokens = 6;
  opt.special = sp;
  const std::vector<int64_t> free_run = greedy_generate(llm, ids, e, opt).generated_ids;
  sp.eos = free_run[2];  // pretend the third token is EOS
  opt.special = sp;
  const GenerationTrace tr = greedy_generate(llm, ids, e, opt);
  const auto first = std::find(free_run.begin(), free_run.end(), sp.eos);
  EXPECT_EQ(tr.generated_ids, std::vector<int64_t>(free_run.begin(), first + 1));
}

// ---- config.json -------------------------------------------------------------------------------------------------

struct TempFile {
  fs::path path;
  explicit TempFile(const std::string& text) {
    static int n = 0;
    path = fs::temp_directory_path() / ("glamm_llm_cfg_" + std::to_string(::getpid()) + "_" + std::to_string(n++) +
                                        "_config.json");
    std::ofstream(path) << text;
  }
  ~TempFile() { fs::remove(path); }
};

TEST(GlammConfigJson, ReadsSizesIdsAndRunnerBlockWithDefaults) {
  TempFile f(R"({"hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
                 "num_key_value_heads": 4, "vocab_size": 32007, "rms_norm_eps": 1e-5, "bbox_token_idx": 32002,
                 "out_dim": 32, "mm_hidden_size": 128, "mm_vision_select_layer": -2, "num_level_reg_features": 4,
                 "glamm_runner": {"sam_mask_decoder_num_heads": 2}, "rope_scaling": null})");
  const GlammConfig c = GlammConfig::from_json_file(f.path);
  EXPECT_EQ(c.llm.hidden_size, 64);
  EXPECT_EQ(c.llm.head_dim(), 16);
  EXPECT_EQ(c.llm.intermediate_size, 160);
  EXPECT_EQ(c.out_dim, 32);
  EXPECT_EQ(c.mm_hidden_size, 128);
  EXPECT_EQ(c.sam_mask_decoder_num_heads, 2);
  EXPECT_EQ(c.bbox_token_id, 32002);
  EXPECT_EQ(c.seg_token_id, 32004);
  EXPECT_DOUBLE_EQ(c.llm.rms_norm_eps, 1e-5);
  TempFile g(R"({"hidden_size": 4096})");
  EXPECT_EQ(GlammConfig::from_json_file(g.path).sam_mask_decoder_num_heads, 8);  // default
  EXPECT_EQ(GlammConfig::from_json_file(g.path).llm.num_hidden_layers, 32);
}

TEST(GlammConfigJson, RejectsBadValuesNamingTheKey) {
  auto rejected_key = [](const std::string& text) -> std::string {
    TempFile f(text);
    try {
      GlammConfig::from_json_file(f.path);
    } catch (const glamm::InputError& e) {
      EXPECT_EQ(e.file(), f.path.string());
      return e.record();
    }
    return "(accepted)";
  };
  EXPECT_EQ(rejected_key(R"({"hidden_size": "64"})"), "hidden_size");
  EXPECT_EQ(rejected_key(R"({"hidden_size": 0})"), "hidden_size");
  EXPECT_EQ(rejected_key(R"({"hidden_size": 64, "num_attention_heads": 5})"), "num_attention_heads");
  EXPECT_EQ(rejected_key(R"({"num_key_value_heads": 8})"), "num_key_value_heads");
  EXPECT_EQ(rejected_key(R"({"rope_scaling": {"type": "linear", "factor": 2}})"), "rope_scaling");
  EXPECT_EQ(rejected_key(R"({"mm_vision_select_layer": 3})"), "mm_vision_select_layer");
  EXPECT_EQ(rejected_key(R"({"glamm_runner": {"sam_mask_decoder_num_heads": -1}})"),
            "glamm_runner.sam_mask_decoder_num_heads");
}

TEST(ClipConfigJson, ReadsNestedVisionConfigAndFlatVisionConfig) {
  TempFile nested(R"({"model_type": "clip", "vision_config": {"hidden_size": 128, "intermediate_size": 256,
                      "num_attention_heads": 2, "num_hidden_layers": 24, "image_size": 336, "patch_size": 14,
                      "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}})");
  const ClipVisionConfig c = ClipVisionConfig::from_json_file(nested.path);
  EXPECT_EQ(c.hidden_size, 128);
  EXPECT_EQ(c.head_dim(), 64);
  EXPECT_EQ(c.num_patches(), 576);
  EXPECT_EQ(c.num_positions(), 577);
  TempFile flat(R"({"hidden_size": 1024, "num_hidden_layers": 24})");
  EXPECT_EQ(ClipVisionConfig::from_json_file(flat.path).hidden_size, 1024);
  TempFile gelu(R"({"vision_config": {"hidden_act": "gelu"}})");
  try {
    ClipVisionConfig::from_json_file(gelu.path);
    FAIL();
  } catch (const glamm::InputError& e) {
    EXPECT_EQ(e.record(), "vision_config.hidden_act");
  }
  TempFile odd(R"({"vision_config": {"image_size": 330}})");
  EXPECT_THROW(ClipVisionConfig::from_json_file(odd.path), glamm::InputError);
}

}  // namespace
