// Golden (reads the reference tiny checkpoint in shared golden/model). WeightStore and the GLaMM component loaders on the tiny checkpoint (shared golden/model): shards read as stored
// (bf16 LLM, fp32 SAM), a safetensors copy written here (sharded with an index, and single-file) gives identical
// outputs, and bad inputs give one clear InputError: missing shard, truncated shard, config sizes that disagree
// with the tensor shapes, missing / unexpected / mis-shaped keys (all listed at once).
#include <unistd.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/safetensors.h"
#include "model/clip_vision.h"
#include "model/generation.h"
#include "model/glamm_config.h"
#include "model/llama.h"
#include "model/projector.h"
#include "model/weights.h"
#include "support/shared_data.h"

namespace fs = std::filesystem;
using namespace glamm::model;
using glamm::InputError;

namespace {

/// A fresh temporary folder removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() /
           ("glamm_weights_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

std::string st_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "F32";
    case at::kBFloat16: return "BF16";
    case at::kHalf: return "F16";
    case at::kLong: return "I64";
    case at::kByte: return "U8";
    default: ADD_FAILURE() << "dtype not handled in the test writer"; return "F32";
  }
}

/// Write `tensors` (name → tensor) as one safetensors file.
void write_safetensors(const fs::path& file, const std::map<std::string, at::Tensor>& tensors) {
  std::vector<at::Tensor> keep;
  std::vector<glamm::safetensors::TensorToWrite> out;
  for (const auto& [name, t] : tensors) {
    keep.push_back(t.contiguous());
    const at::Tensor& c = keep.back();
    out.push_back({name, st_dtype(c.scalar_type()), c.sizes().vec(),
                   std::string_view(static_cast<const char*>(c.data_ptr()), c.nbytes())});
  }
  glamm::safetensors::write_file(file, out);
}

/// Every tensor of a store (read as stored).
std::map<std::string, at::Tensor> read_all(WeightStore& ws) {
  std::map<std::string, at::Tensor> all;
  for (const std::string& n : ws.names()) all[n] = ws.get(n);
  return all;
}

/// Copy of the tiny GLaMM folder as safetensors: two shards split by name + model.safetensors.index.json.
void write_sharded_copy(const fs::path& src, const fs::path& dst) {
  WeightStore ws = WeightStore::open(src);
  std::map<std::string, at::Tensor> a, b;
  nlohmann::json index;
  index["metadata"] = {{"total_size", ws.bytes_total()}};
  for (auto& [n, t] : read_all(ws)) {
    const bool first = n.rfind("model.layers.0.", 0) == 0 || n.rfind("model.embed_tokens", 0) == 0;
    (first ? a : b)[n] = t;
    index["weight_map"][n] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  write_safetensors(dst / "model-00001-of-00002.safetensors", a);
  write_safetensors(dst / "model-00002-of-00002.safetensors", b);
  glamm::io::save_json(dst / "model.safetensors.index.json", index);
  fs::copy_file(src / "config.json", dst / "config.json");
}

void copy_file_truncated(const fs::path& src, const fs::path& dst, std::uintmax_t keep_bytes) {
  std::string bytes = glamm::io::read_file(src);
  bytes.resize(std::min<std::size_t>(bytes.size(), keep_bytes));
  std::ofstream(dst, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Copy the tiny GLaMM folder's index + config, and the shards given.
void copy_glamm_folder(const fs::path& src, const fs::path& dst, bool shard1, bool shard2) {
  for (const char* f : {"config.json", "pytorch_model.bin.index.json"}) fs::copy_file(src / f, dst / f);
  if (shard1) fs::copy_file(src / "pytorch_model-00001-of-00002.bin", dst / "pytorch_model-00001-of-00002.bin");
  if (shard2) fs::copy_file(src / "pytorch_model-00002-of-00002.bin", dst / "pytorch_model-00002-of-00002.bin");
}

/// Load config + LLM from a folder, with the config/shape check and finish().
std::unique_ptr<Llama> load_llm(const fs::path& folder) {
  GlammConfig cfg = GlammConfig::from_json_file(folder / "config.json");
  WeightStore ws = WeightStore::open(folder);
  cfg.check_shapes(shape_lookup(ws), (folder / "config.json").string());
  auto llm = std::make_unique<Llama>(Llama::load(ws, cfg.llm));
  ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head."});
  return llm;
}

/// A fixed prompt run through the LLM: final hidden states and the logits of the last position.
at::Tensor llm_probe(const Llama& llm) {
  const std::vector<int64_t> ids = {1, 319, 13563, 1546, -200, 3148, 32002, 29973, 32004, 2};
  const at::Tensor img = at::linspace(-1, 1, 576 * llm.config().hidden_size).view({576, -1});
  const at::Tensor region = at::linspace(0.5, -0.5, llm.config().hidden_size).view({1, -1});
  const at::Tensor h = llm.forward(build_inputs_embeds(llm, ids, img, region));
  return at::cat({h.flatten(), llm.logits(h.narrow(0, h.size(0) - 1, 1)).flatten()}, 0);
}

// ---------------------------------------------------------------------------------------------------------------

TEST(TinyCheckpoint, ShardsAreReadInTheirStoredDtypes) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  WeightStore ws = WeightStore::open(root);
  ASSERT_EQ(ws.files().size(), 2u);
  EXPECT_EQ(ws.get("model.layers.0.self_attn.q_proj.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(ws.get("model.layers.1.mlp.down_proj.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(ws.get("lm_head.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(ws.get("model.mm_projector.0.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(ws.get("model.grounding_encoder.image_encoder.pos_embed").scalar_type(), at::kFloat);
  EXPECT_EQ(ws.get("model.text_hidden_fcs.0.0.weight").scalar_type(), at::kFloat);
  EXPECT_EQ(ws.get("model.layers.0.self_attn.rotary_emb.inv_freq").scalar_type(), at::kFloat);
  // The stored inv_freq equals what the decoder recomputes (1 / 10000^(2i/16)).
  const at::Tensor inv = ws.get("model.layers.0.self_attn.rotary_emb.inv_freq");
  const at::Tensor mine = 1.0 / at::pow(10000.0, at::arange(0, 16, 2, at::kFloat) / 16.0);
  EXPECT_TRUE(at::allclose(inv, mine, 0, 1e-7));
  const auto by = ws.bytes_by_dtype();
  EXPECT_EQ(by.at("bfloat16"), 2 * (64 * 64 + 160 * 64 + 32007 * 64 + 64 * 128));  // 2 bytes each
  EXPECT_GT(by.at("float32"), 0);
}

TEST(TinyCheckpoint, LlmLoaderConsumesEveryLlmKeyAndIgnoresInvFreq) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  GlammConfig cfg = GlammConfig::from_json_file(root / "config.json");
  WeightStore ws = WeightStore::open(root);
  cfg.check_shapes(shape_lookup(ws), "config.json");
  EXPECT_EQ(cfg.llm.vocab_size, 32007);
  const Llama llm = Llama::load(ws, cfg.llm);
  const Projector proj = Projector::load(ws, cfg.mm_hidden_size, cfg.llm.hidden_size);
  EXPECT_NO_THROW(ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head.", "model.mm_projector."}));
  // bf16 storage: 2 bytes per LLM parameter.
  EXPECT_EQ(llm.weight_bytes(), 2 * (2 * 32007 * 64 + 64 + 2 * (4 * 64 * 64 + 3 * 160 * 64 + 2 * 64)));
}

TEST(TinyCheckpoint, SafetensorsCopyGivesIdenticalOutputs) {
  GLAMM_REQUIRE_SHARED(root, "golden/model");
  TempDir sharded("sharded"), single("single"), clip_copy("clip");
  write_sharded_copy(root / "tiny-glamm", sharded.path);
  {
    WeightStore ws = WeightStore::open(root / "tiny-glamm");
    write_safetensors(single.path / "model.safetensors", read_all(ws));
    fs::copy_file(root / "tiny-glamm" / "config.json", single.path / "config.json");
  }
  const auto ref = load_llm(root / "tiny-glamm");
  const auto from_sharded = load_llm(sharded.path);
  const auto from_single = load_llm(single.path);
  const at::Tensor a = llm_probe(*ref);
  EXPECT_TRUE(at::equal(a, llm_probe(*from_sharded)));
  EXPECT_TRUE(at::equal(a, llm_probe(*from_single)));
  {
    WeightStore s = WeightStore::open(sharded.path);
    EXPECT_EQ(s.files().size(), 2u);
    EXPECT_EQ(s.get("model.layers.1.mlp.up_proj.weight").scalar_type(), at::kBFloat16);
    EXPECT_EQ(s.get("model.grounding_encoder.image_encoder.pos_embed").scalar_type(), at::kFloat);
  }
  // CLIP: an OrderedDict pytorch_model.bin (int64 position_ids included) vs a model.safetensors copy.
  {
    WeightStore ws = WeightStore::open(root / "tiny-clip-vit-patch14-336");
    write_safetensors(clip_copy.path / "model.safetensors", read_all(ws));
    fs::copy_file(root / "tiny-clip-vit-patch14-336" / "config.json", clip_copy.path / "config.json");
  }
  const ClipVisionTower c1 = ClipVisionTower::load_folder(root / "tiny-clip-vit-patch14-336");
  const ClipVisionTower c2 = ClipVisionTower::load_folder(clip_copy.path);
  const at::Tensor px = at::linspace(-2, 2, 3 * 336 * 336).view({1, 3, 336, 336});
  const ClipVisionOutput o1 = c1.forward(px), o2 = c2.forward(px);
  EXPECT_TRUE(at::equal(o1.patches, o2.patches));
  EXPECT_TRUE(at::equal(o1.region_levels, o2.region_levels));
}

TEST(BadCheckpoint, MissingShardNamedByTheIndexIsReported) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  TempDir d("missing");
  copy_glamm_folder(root, d.path, /*shard1=*/true, /*shard2=*/false);
  try {
    WeightStore::open(d.path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pytorch_model-00002-of-00002.bin"), std::string::npos) << e.what();
    EXPECT_NE(e.file().find("pytorch_model.bin.index.json"), std::string::npos) << e.what();
  }
}

TEST(BadCheckpoint, TruncatedShardIsReportedWithItsFileName) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  for (std::uintmax_t keep : {std::uintmax_t{1000}, fs::file_size(root / "pytorch_model-00002-of-00002.bin") - 100}) {
    TempDir d("truncated");
    copy_glamm_folder(root, d.path, true, false);
    copy_file_truncated(root / "pytorch_model-00002-of-00002.bin", d.path / "pytorch_model-00002-of-00002.bin", keep);
    try {
      WeightStore ws = WeightStore::open(d.path);
      for (const std::string& n : ws.names()) ws.get(n);
      FAIL() << "expected InputError for a shard cut at " << keep << " bytes";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("pytorch_model-00002-of-00002.bin"), std::string::npos) << e.what();
    }
  }
}

TEST(BadCheckpoint, TruncatedSafetensorsShardIsReported) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  TempDir d("st_truncated");
  write_sharded_copy(root, d.path);
  const fs::path shard = d.path / "model-00002-of-00002.safetensors";
  const std::string bytes = glamm::io::read_file(shard);
  copy_file_truncated(shard, d.path / "cut.tmp", bytes.size() - 8);
  fs::rename(d.path / "cut.tmp", shard);
  try {
    WeightStore::open(d.path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00002.safetensors"), std::string::npos) << e.what();
  }
}

/// config.json of the tiny checkpoint with one key changed must be rejected naming that key.
void expect_config_rejected(const fs::path& root, const std::string& key, const nlohmann::json& value,
                            const nlohmann::json& also = nlohmann::json::object()) {
  TempDir d("config");
  nlohmann::json cfg = glamm::io::load_json(root / "config.json");
  cfg[key] = value;
  cfg.update(also);
  glamm::io::save_json(d.path / "config.json", cfg);
  WeightStore ws = WeightStore::open(root);
  try {
    GlammConfig c = GlammConfig::from_json_file(d.path / "config.json");
    c.check_shapes(shape_lookup(ws), (d.path / "config.json").string());
    FAIL() << key << " = " << value << " was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), (d.path / "config.json").string()) << e.what();
    EXPECT_EQ(e.record(), key) << e.what();
  }
}

TEST(BadCheckpoint, ConfigSizesThatDisagreeWithTheShapesNameTheKey) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  expect_config_rejected(root, "hidden_size", 128);
  expect_config_rejected(root, "intermediate_size", 128);
  expect_config_rejected(root, "num_hidden_layers", 3);
  expect_config_rejected(root, "num_hidden_layers", 1);
  expect_config_rejected(root, "vocab_size", 32000);
  expect_config_rejected(root, "mm_hidden_size", 1024);
  expect_config_rejected(root, "out_dim", 256);
  // head_dim 8 vs the stored rotary_emb.inv_freq [8] (head_dim 16)
  expect_config_rejected(root, "num_attention_heads", 8, {{"num_key_value_heads", 8}});
}

TEST(BadCheckpoint, ClipConfigSizesThatDisagreeWithTheShapesNameTheKey) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-clip-vit-patch14-336");
  for (const auto& [key, value] : std::vector<std::pair<std::string, int>>{
           {"hidden_size", 1024}, {"intermediate_size", 4096}, {"num_hidden_layers", 23}, {"patch_size", 16},
           {"image_size", 224}}) {
    TempDir d("clipcfg");
    nlohmann::json cfg = glamm::io::load_json(root / "config.json");
    cfg["vision_config"][key] = value;
    glamm::io::save_json(d.path / "config.json", cfg);
    fs::copy_file(root / "pytorch_model.bin", d.path / "pytorch_model.bin");
    try {
      ClipVisionTower::load_folder(d.path);
      FAIL() << key << " = " << value << " was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), (d.path / "config.json").string()) << e.what();
      EXPECT_EQ(e.record(), key) << e.what();
    }
  }
}

TEST(BadCheckpoint, MissingUnexpectedAndMisShapedKeysAreListedTogether) {
  GLAMM_REQUIRE_SHARED(root, "golden/model/tiny-glamm");
  TempDir d("keys");
  {
    WeightStore ws = WeightStore::open(root);
    auto all = read_all(ws);
    all.erase("model.layers.1.mlp.up_proj.weight");
    all.erase("model.norm.weight");
    all["model.layers.0.self_attn.extra_proj.weight"] = at::zeros({4, 4});
    all["model.layers.1.post_attention_layernorm.weight"] = at::ones({65});
    write_safetensors(d.path / "model.safetensors", all);
  }
  GlammConfig cfg = GlammConfig::from_json_file(root / "config.json");
  WeightStore ws = WeightStore::open(d.path);
  (void)Llama::load(ws, cfg.llm);
  try {
    ws.finish({"model.layers.", "model.embed_tokens.", "model.norm.", "lm_head."});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing keys (2)"), std::string::npos) << m;
    EXPECT_NE(m.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("model.norm.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("shape mismatches (1)"), std::string::npos) << m;
    EXPECT_NE(m.find("model.layers.1.post_attention_layernorm.weight: expected [64], stored [65]"), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected keys (1)"), std::string::npos) << m;
    EXPECT_NE(m.find("model.layers.0.self_attn.extra_proj.weight"), std::string::npos) << m;
    EXPECT_EQ(m.find("inv_freq"), std::string::npos) << m;  // ignored, not unexpected
    EXPECT_NE(e.file().find(d.path.string()), std::string::npos) << m;
  }
}

}  // namespace
