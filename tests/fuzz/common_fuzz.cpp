// Fuzz series for the readers in common/ and reports/record.cpp (readers_sanitize_test, ASan + UBSan):
// the safe unpickler, REFER refs pickles, safetensors files, torch zip checkpoints, the JSON helpers (plain and
// gzip) and results records. See tests/fuzz/fuzz_support.h for the corruptions and the pass rule.
#include <zip.h>
#include <zlib.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/pickle.h"
#include "common/safetensors.h"
#include "common/torch_zip.h"
#include "datasets/refer.h"
#include "reports/record.h"
#include "tests/datasets/refer_fixture.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/gzip.h"
#include "tests/support/torch_state_dict.h"
#include "tests/fuzz/pickle_ops.h"

namespace glamm::fuzz {
namespace {

namespace fs = std::filesystem;
namespace fx = glamm::testing::refer_fixture;

using glamm::testing::unhex;
// The torch zip reader's unit-test state dict (tests/support/torch_state_dict.h).
const char* const kStateDict = glamm::testing::kStateDictPickleHex;

std::string float_bytes(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

/// Touch every byte of a decoded value tree (so that a dangling or short buffer is seen by ASan).
std::size_t walk(const pickle::Value& v) {
  std::size_t n = v.s.size();
  for (const auto& c : v.items) n += c ? walk(*c) : 0;
  for (const auto& [k, x] : v.dict) n += (k ? walk(*k) : 0) + (x ? walk(*x) : 0);
  for (const char c : v.s) n += static_cast<unsigned char>(c) & 1u;
  return n;
}

TEST(FuzzPickle, SafeUnpicklerRefusesCorruptedPicklesWithPickleError) {
  TempDir dir("pickle");
  const std::string refs = fx::pickle2(fx::spec_refs(), true), sd = unhex(kStateDict);
  run_series("pickle::loads", 101, dir.path() / "x.p",
             [&](Rng& rng, int i) { return corrupt_pickle(i % 2 ? refs : sd, rng); },
             [](const fs::path& p) {
               const std::string bytes = read_bytes(p);
               try {
                 walk(*pickle::loads(bytes));
               } catch (const pickle::PickleError& e) {  // callers wrap it into InputError naming the file
                 throw InputError(p.string(), "", e.what());
               }
             });
}

TEST(FuzzPickle, RefsPickles) {
  TempDir dir("refs");
  const std::string py2 = fx::pickle2(fx::spec_refs(), true), py3 = fx::pickle2(fx::spec_refs(), false);
  run_series("refer::load_refs", 102, dir.path() / "refs(unc).p",
             [&](Rng& rng, int i) {
               if (i % 5 == 0) return fx::pickle2(swap_node(fx::spec_refs(), rng, true), i % 2);
               return corrupt_pickle(i % 2 ? py2 : py3, rng);
             },
             [](const fs::path& p) { (void)datasets::refer::load_refs(p); });
}

// --- safetensors ---------------------------------------------------------------------------------------------------

json safetensors_header() {
  return {{"w", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}}},
          {"b", {{"dtype", "F16"}, {"shape", {2}}, {"data_offsets", {16, 20}}}},
          {"s", {{"dtype", "I64"}, {"shape", json::array()}, {"data_offsets", {20, 28}}}},
          {"__metadata__", {{"format", "pt"}}}};
}

std::string safetensors_file(const std::string& header, uint64_t length) {
  std::string out(reinterpret_cast<const char*>(&length), 8);
  return out + header + float_bytes({1, 2, 3, 4}) + std::string("\x00\x3c\x00\xc0", 4) + std::string(8, '\x01');
}

TEST(FuzzSafetensors, OpenAndReadEveryTensor) {
  TempDir dir("safetensors");
  const json h = safetensors_header();
  run_series("safetensors::File::open", 103, dir.path() / "model.safetensors",
             [&](Rng& rng, int) {
               const uint64_t r = below(rng, 10);
               if (r < 3) return mutate_bytes(safetensors_file(h.dump(), h.dump().size()), rng);
               const std::string header = corrupt_json(h, rng);
               uint64_t len = header.size();
               if (r == 9) {
                 static const uint64_t kLens[] = {0, 1, 7, 0xffffffffffffffffull, 0x8000000000000000ull, 100000001, 200};
                 len = kLens[below(rng, std::size(kLens))];
               }
               return safetensors_file(header, len);
             },
             [](const fs::path& p) {
               const auto f = safetensors::File::open(p);
               std::size_t sum = 0;
               for (const auto& t : f.tensors())
                 for (std::size_t k = 0; k < t.nbytes; ++k) sum += t.data[k];
               for (const auto& [k, v] : f.metadata()) sum += k.size() + v.size();
               (void)sum;
             });
}

// --- torch zip -----------------------------------------------------------------------------------------------------

std::string zip_bytes(const fs::path& tmp, const std::vector<std::pair<std::string, std::string>>& entries) {
  int err = 0;
  zip_t* z = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) return "";
  for (const auto& [name, data] : entries) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    const zip_int64_t idx = zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE);
    if (idx >= 0) zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  zip_close(z);
  const std::string out = read_bytes(tmp);
  fs::remove(tmp);
  return out;
}

TEST(FuzzTorchZip, OpenStateDictAndTensorBytes) {
  TempDir dir("torch_zip");
  const std::string pkl = unhex(kStateDict);
  auto entries = [&](const std::string& data_pkl, std::size_t s1) {
    std::vector<float> one = {10, 11, 12, 13};
    one.resize(s1);
    return std::vector<std::pair<std::string, std::string>>{
        {"archive/data.pkl", data_pkl}, {"archive/byteorder", "little"},
        {"archive/data/0", float_bytes({1, 2, 3, 4, 5, 6})}, {"archive/data/1", float_bytes(one)},
        {"archive/data/2", std::string("\x00\x3c\x00\xc0", 4)}};
  };
  const std::string good = zip_bytes(dir.path() / "base.zip", entries(pkl, 4));
  ASSERT_FALSE(good.empty());
  run_series("torch_zip::Checkpoint", 104, dir.path() / "pytorch_model.bin",
             [&](Rng& rng, int i) {
               switch (i % 4) {
                 case 0: return mutate_bytes(good, rng);
                 case 1: return zip_bytes(dir.path() / "m.zip", entries(pkl, below(rng, 6)));
                 default: return zip_bytes(dir.path() / "m.zip", entries(corrupt_pickle(pkl, rng), 4));
               }
             },
             [](const fs::path& p) {
               const auto c = torch_zip::Checkpoint::open(p);
               std::size_t n = walk(c.root());
               for (const auto& t : c.state_dict()) n += c.tensor_bytes(t.ref, t.name).size();
               (void)n;
             });
}

// --- JSON helpers and records --------------------------------------------------------------------------------------

using glamm::testing::gzip;

TEST(FuzzJson, LoadJsonPlainAndGzip) {
  TempDir dir("json");
  const json doc = fx::spec_instances();
  const std::string gz = gzip(doc.dump());
  run_series("io::load_json", 105, dir.path() / "doc.json",
             [&](Rng& rng, int i) {
               if (i % 4 == 0) return mutate_bytes(gz, rng);
               if (i % 4 == 1) return gzip(corrupt_json(doc, rng));
               return corrupt_json(doc, rng);
             },
             [](const fs::path& p) { (void)io::load_json(p).dump(); });
}

json minimal_record() {
  return {{"schema_version", 1}, {"task", "gcg"}, {"dataset", "grandf"}, {"split", "val"}, {"label", "x"},
          {"metrics", {{"mIoU", 0.5}, {"AP50", nullptr}}}, {"metric_order", {"mIoU", "AP50"}},
          {"signature", {{"metric", "glamm-gcg"}, {"split", "val"}, {"strict", "off"}}},
          {"signature_string", "metric:glamm-gcg|split:val|strict:off"},
          {"inputs", {{"gt", {{"path", "a.json"}, {"sha256", std::string(64, 'a')}}}}},
          {"per_sample", json::array({{{"image_id", "a"}, {"miou", 0.5}}, {{"image_id", 7}, {"miou", nullptr}}})}};
}

TEST(FuzzRecord, LoadRecord) {
  TempDir dir("record");
  const json rec = minimal_record();
  run_series("reports::load_record", 106, dir.path() / "run.json",
             [&](Rng& rng, int) { return corrupt_json(rec, rng); },
             [](const fs::path& p) {
               const auto r = reports::load_record(p);
               (void)reports::metric_variant(r);
               (void)r.to_json().dump();
             });
}

}  // namespace
}  // namespace glamm::fuzz
