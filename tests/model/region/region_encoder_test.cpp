// Region encoder (model/region_encoder.h) without the shared data: box preparation with hand-computed fp16→bf16
// values, the ×224 RoIs, bad boxes (outside the image, zero area, inverted, NaN/inf, float16 overflow), and the
// encoder on a small synthetic bf16 checkpoint (E = 64) written to a temporary folder: sizes from shapes, missing
// keys, box order, and what outside / zero-area / inverted boxes produce.
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/safetensors.h"
#include "model/region_encoder.h"
#include "model/weights.h"

namespace fs = std::filesystem;
using glamm::InputError;
using glamm::model::prepare_region_boxes;
using glamm::model::region_rois;
using glamm::model::RegionBox;
using glamm::model::RegionEncoder;
using glamm::model::RegionTrace;
using glamm::model::WeightStore;

namespace {

at::Tensor row(std::vector<float> v) { return at::tensor(v, at::kFloat).reshape({1, -1}); }

// ---- synthetic checkpoint ---------------------------------------------------------------------------------------

constexpr int64_t kE = 64, kP = 8, kDh = 16, kD = 24;
const std::string kPrefix = "model.region_encoder.";

/// name → tensor (float32 values, written as BF16 like the released checkpoints).
std::map<std::string, at::Tensor> synthetic_weights(int64_t E = kE) {
  at::manual_seed(7);
  std::map<std::string, at::Tensor> w;
  auto rnd = [](std::vector<int64_t> s, double scale) { return (at::randn(s) * scale).to(at::kBFloat16); };
  const std::string f = kPrefix + "mlvl_fuse.", r = kPrefix + "roi_align.";
  for (int l = 0; l < 4; ++l) {
    w[f + "input_conv." + std::to_string(l) + ".weight"] = rnd({E, E + 2, 1, 1}, 0.1);
    w[f + "input_conv." + std::to_string(l) + ".bias"] = rnd({E}, 0.1);
    w[r + "pconvs." + std::to_string(l) + ".weight"] = rnd({E, E, 3, 3}, 0.05);
    w[r + "pconvs." + std::to_string(l) + ".bias"] = rnd({E}, 0.5);
  }
  for (int k = 0; k < 5; ++k) {
    w[f + "fuse_convs." + std::to_string(k) + ".conv.weight"] = rnd({E, E, 3, 3}, 0.05);
    w[f + "fuse_convs." + std::to_string(k) + ".gn.weight"] = rnd({E}, 1.0);
    w[f + "fuse_convs." + std::to_string(k) + ".gn.bias"] = rnd({E}, 0.1);
  }
  w[r + "pos_embedd.0.weight"] = rnd({kP, 4}, 1.0);
  w[r + "pos_embedd.0.bias"] = rnd({kP}, 0.1);
  w[r + "pos_embedd.2.weight"] = rnd({kP}, 1.0);
  w[r + "pos_embedd.2.bias"] = rnd({kP}, 0.1);
  w[r + "pos_embedd.3.weight"] = rnd({kDh, kP}, 0.5);
  w[r + "pos_embedd.3.bias"] = rnd({kDh}, 0.1);
  w[r + "pos_embedd.5.weight"] = rnd({kDh}, 1.0);
  w[r + "pos_embedd.5.bias"] = rnd({kDh}, 0.1);
  w[r + "flatten_linear.weight"] = rnd({kDh, E * 196}, 0.01);
  w[r + "flatten_linear.bias"] = rnd({kDh}, 0.1);
  w[r + "updims.weight"] = rnd({kD, kDh}, 0.3);
  w[r + "updims.bias"] = rnd({kD}, 0.1);
  return w;
}

/// Write `weights` as one safetensors file under a fresh temporary folder; returns the file.
fs::path write_checkpoint(const std::map<std::string, at::Tensor>& weights, const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("glamm_region_test_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<glamm::safetensors::TensorToWrite> out;
  for (const auto& [name, t] : weights) {
    const at::Tensor c = t.contiguous();
    out.push_back({name, "BF16", c.sizes().vec(),
                   std::string_view(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size())});
  }
  const fs::path file = dir / "model.safetensors";
  glamm::safetensors::write_file(file, out);
  return file;
}

at::Tensor f32(const at::Tensor& t) { return t.to(at::kFloat); }

class RegionEncoderSynthetic : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    weights_ = new std::map<std::string, at::Tensor>(synthetic_weights());
    file_ = new fs::path(write_checkpoint(*weights_, "ok"));
    store_ = new WeightStore(WeightStore::open(*file_));
    encoder_ = new RegionEncoder(RegionEncoder::load(*store_));
    store_->finish({kPrefix});
    // Fused maps stand-ins: 4 random maps of the sizes MLVLFuse produces (192, 96, 48, 24).
    fused_ = new std::vector<at::Tensor>();
    for (int l = 0; l < 4; ++l) {
      const int64_t s = 24 << (3 - l);
      fused_->push_back(at::rand({1, kE, s, s}));
    }
  }
  static void TearDownTestSuite() {
    delete encoder_;
    delete store_;
    fs::remove_all(file_->parent_path());
    delete file_;
    delete weights_;
    delete fused_;
  }
  const at::Tensor& w(const std::string& name) const { return weights_->at(kPrefix + name); }

  static std::map<std::string, at::Tensor>* weights_;
  static fs::path* file_;
  static WeightStore* store_;
  static RegionEncoder* encoder_;
  static std::vector<at::Tensor>* fused_;
};
std::map<std::string, at::Tensor>* RegionEncoderSynthetic::weights_ = nullptr;
fs::path* RegionEncoderSynthetic::file_ = nullptr;
WeightStore* RegionEncoderSynthetic::store_ = nullptr;
RegionEncoder* RegionEncoderSynthetic::encoder_ = nullptr;
std::vector<at::Tensor>* RegionEncoderSynthetic::fused_ = nullptr;

}  // namespace

// ---- box preparation ----------------------------------------------------------------------------------------------

TEST(RegionBoxes, NormaliseByImageSizeThenRoundToFloat16ThenBfloat16) {
  // 640×360: 100/640 = 0.15625 (exact); 50/360 = 0.13889 → fp16 0.139160… → bf16 0.138671875;
  // 400/640 = 0.625; 300/360 = 0.83333 → fp16 0.833496… → bf16 0.83203125 (the golden regcap1 values).
  const at::Tensor b = prepare_region_boxes({{100, 50, 400, 300}}, 640, 360);
  EXPECT_EQ(b.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(b, row({0.15625f, 0.138671875f, 0.625f, 0.83203125f}))) << b;
}

TEST(RegionBoxes, Float16RoundingComesFirstAndCanDecideTheBfloat16Tie) {
  // 502.0751953125/1000 = 0.5 + 2^-9 + 2^-13: straight to bf16 it would round up to 0.50390625, but fp16 first
  // rounds it to 0.501953125 (the bf16 midpoint), which then ties to even: 0.5.
  const at::Tensor b = prepare_region_boxes({{502.0751953125, 0, 1000, 1000}}, 1000, 1000);
  EXPECT_EQ(b[0][0].item<float>(), 0.5f);
  EXPECT_EQ(b[0][2].item<float>(), 1.0f);
}

TEST(RegionBoxes, BoxesOutsideTheImageAreNeitherClippedNorReordered) {
  // (−64, 0, 704, 0) on 640×360: −0.1 → −0.10009765625, 1.1 → 1.1015625; zero height kept; x2 < x1 kept.
  const at::Tensor b = prepare_region_boxes({{-64, 0, 704, 0}, {400, 300, 100, 50}}, 640, 360);
  EXPECT_TRUE(at::equal(b[0], row({-0.10009765625f, 0.f, 1.1015625f, 0.f})[0])) << b;
  EXPECT_TRUE(at::equal(b[1], row({0.625f, 0.83203125f, 0.15625f, 0.138671875f})[0])) << b;
}

TEST(RegionBoxes, NoBoxesGiveAnEmptyTable) {
  const at::Tensor b = prepare_region_boxes({}, 640, 360);
  EXPECT_EQ(b.sizes().vec(), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(region_rois(b).sizes().vec(), (std::vector<int64_t>{0, 5}));
}

TEST(RegionBoxes, NanInfinityAndFloat16OverflowAreInputErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  try {
    prepare_region_boxes({{0, 0, 1, 1}, {0, nan, 1, 1}}, 640, 360);
    FAIL() << "NaN accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.record(), "region box 1");
    EXPECT_NE(e.message().find("y1 is NaN"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prepare_region_boxes({{0, 0, inf, 1}}, 640, 360), InputError);
  // 1e9 / 10 px = 1e8 image widths: float16 overflows to inf in the reference.
  try {
    prepare_region_boxes({{1e9, 0, 1, 1}}, 10, 10);
    FAIL() << "float16 overflow accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.record(), "region box 0");
    EXPECT_NE(e.message().find("x1 normalises to 1e+08"), std::string::npos) << e.what();
  }
  // 65504 (largest float16) image widths is still finite.
  EXPECT_NO_THROW(prepare_region_boxes({{65504, 0, 1, 1}}, 1, 1));
  EXPECT_THROW(prepare_region_boxes({{0, 0, 1, 1}}, 0, 360), InputError);
  EXPECT_THROW(prepare_region_boxes({{0, 0, 1, 1}}, 640, -1), InputError);
}

TEST(RegionBoxes, RoisAreTheBoxTimes224RoundedToBfloat16) {
  // 0.138671875·224 = 31.0625 lies halfway between the bf16 neighbours 31 and 31.125 → ties to even: 31;
  // 0.83203125·224 = 186.375 → 186 (bf16 step 1 above 128). Batch index 0 first.
  const at::Tensor r = region_rois(row({0.15625f, 0.138671875f, 0.625f, 0.83203125f}));
  EXPECT_TRUE(at::equal(r, row({0, 35, 31, 140, 186}))) << r;
  EXPECT_THROW(region_rois(at::zeros({2, 3})), InputError);
}

// ---- RoIAlign tensor wrapper -----------------------------------------------------------------------------------------

TEST(RegionRoiAlign, BatchIndexSelectsTheImageAndMustBeValid) {
  // Two images; image 1 = image 0 + 5. The same box on image 1 gives the image-0 result + 5.
  const at::Tensor img0 = at::rand({1, 3, 6, 6});
  const at::Tensor maps = at::cat({img0, img0 + 5});
  const at::Tensor rois = at::tensor({0.f, 1.f, 1.f, 4.f, 5.f, 1.f, 1.f, 1.f, 4.f, 5.f}).reshape({2, 5});
  const at::Tensor out = glamm::model::roi_align(maps, rois, 1.0, 2);
  ASSERT_EQ(out.sizes().vec(), (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_TRUE(at::allclose(out[1], out[0] + 5, 0, 1e-5));
  EXPECT_THROW(glamm::model::roi_align(maps, at::tensor({2.f, 0.f, 0.f, 1.f, 1.f}).reshape({1, 5}), 1.0),
               InputError);
  EXPECT_THROW(glamm::model::roi_align(maps, at::tensor({0.5f, 0.f, 0.f, 1.f, 1.f}).reshape({1, 5}), 1.0),
               InputError);
  EXPECT_THROW(glamm::model::roi_align(maps, at::zeros({1, 4}), 1.0), InputError);
}

// ---- encoder on a synthetic checkpoint -----------------------------------------------------------------------------

TEST_F(RegionEncoderSynthetic, SizesComeFromTheTensorShapes) {
  EXPECT_EQ(encoder_->embed_dim(), kE);
  EXPECT_EQ(encoder_->hidden_dim(), kDh);
  EXPECT_EQ(encoder_->output_dim(), kD);
}

TEST_F(RegionEncoderSynthetic, NoBoxesGiveNoVectorsWithoutRunningTheEncoder) {
  const at::Tensor v = encoder_->forward(at::zeros({4, 576, kE}), {}, 640, 360);
  EXPECT_EQ(v.sizes().vec(), (std::vector<int64_t>{0, kD}));
}

TEST_F(RegionEncoderSynthetic, BoxOutsideTheImageGivesZeroRoiFeaturesAndTheBiasOnlyVector) {
  // A box entirely right of the image: every RoIAlign sample lies beyond the map, so all RoI features are 0,
  // each pconv outputs its bias, and the vector is updims(flatten_linear(relu(Σ biases)) + pos_embed).
  const at::Tensor boxes = prepare_region_boxes({{1400, 10, 1600, 100}}, 640, 360);
  RegionTrace t;
  const at::Tensor v = encoder_->extract(*fused_, boxes, &t);
  EXPECT_EQ(t.roi_feats.abs().max().item<float>(), 0.f);
  at::Tensor bias_sum = at::zeros({kE});
  for (int l = 0; l < 4; ++l) bias_sum = bias_sum + f32(w("roi_align.pconvs." + std::to_string(l) + ".bias"));
  const at::Tensor flat = at::relu(bias_sum).reshape({1, kE, 1, 1}).expand({1, kE, 14, 14}).reshape({1, -1});
  const at::Tensor hidden = at::linear(flat, f32(w("roi_align.flatten_linear.weight")),
                                       f32(w("roi_align.flatten_linear.bias"))) + t.pos_embed;
  const at::Tensor want = at::linear(hidden, f32(w("roi_align.updims.weight")), f32(w("roi_align.updims.bias")));
  EXPECT_TRUE(at::allclose(v, want, 1e-5, 1e-5)) << v << want;
}

TEST_F(RegionEncoderSynthetic, ZeroAreaBoxSamplesOnePointInEveryBin) {
  // x1 = x2, y1 = y2: all 14×14 bins of a level hold the same bilinear sample; the vector is finite.
  const at::Tensor boxes = prepare_region_boxes({{320, 180, 320, 180}}, 640, 360);
  RegionTrace t;
  const at::Tensor v = encoder_->extract(*fused_, boxes, &t);
  for (int l = 0; l < 4; ++l) {
    const at::Tensor f = t.roi_feats[l][0].reshape({kE, -1});
    EXPECT_EQ((std::get<0>(f.max(1)) - std::get<0>(f.min(1))).abs().max().item<float>(), 0.f) << "level " << l;
    EXPECT_GT(f.abs().max().item<float>(), 0.f) << "level " << l;
  }
  EXPECT_TRUE(at::isfinite(v).all().item<bool>());
}

TEST_F(RegionEncoderSynthetic, InvertedBoxSamplesTheMirroredRegion) {
  // x2 < x1 is not swapped: bin pw of the inverted box samples the region of bin 13−pw of the proper box
  // (RoIAlign with a negative bin width), so its RoI features are the proper ones flipped along x.
  RegionTrace proper, inverted;
  encoder_->extract(*fused_, prepare_region_boxes({{100, 50, 400, 300}}, 640, 360), &proper);
  const at::Tensor v = encoder_->extract(*fused_, prepare_region_boxes({{400, 50, 100, 300}}, 640, 360), &inverted);
  EXPECT_TRUE(at::allclose(inverted.roi_feats, proper.roi_feats.flip({-1}), 0, 1e-4));
  EXPECT_FALSE(at::allclose(inverted.roi_feats, proper.roi_feats, 0, 1e-3));
  EXPECT_TRUE(at::isfinite(v).all().item<bool>());
}

TEST_F(RegionEncoderSynthetic, EachBoxIsEncodedIndependentlyInTheGivenOrder) {
  const std::vector<RegionBox> ab = {{100, 50, 400, 300}, {10, 200, 600, 350}};
  const std::vector<RegionBox> ba = {ab[1], ab[0]};
  const at::Tensor v_ab = encoder_->extract(*fused_, prepare_region_boxes(ab, 640, 360));
  const at::Tensor v_ba = encoder_->extract(*fused_, prepare_region_boxes(ba, 640, 360));
  const at::Tensor v_a = encoder_->extract(*fused_, prepare_region_boxes({ab[0]}, 640, 360));
  ASSERT_EQ(v_ab.sizes().vec(), (std::vector<int64_t>{2, kD}));
  EXPECT_TRUE(at::allclose(v_ab[0], v_ba[1], 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(v_ab[1], v_ba[0], 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(v_ab[0], v_a[0], 1e-5, 1e-5));
  EXPECT_FALSE(at::allclose(v_ab[0], v_ab[1], 0, 1e-3));
}

TEST_F(RegionEncoderSynthetic, LevelsOfTheWrongShapeAreInputErrors) {
  EXPECT_THROW(encoder_->forward(at::zeros({4, 577, kE}), {{0, 0, 10, 10}}, 640, 360), InputError);
  EXPECT_THROW(encoder_->forward(at::zeros({3, 576, kE}), {{0, 0, 10, 10}}, 640, 360), InputError);
  EXPECT_THROW(encoder_->forward(at::zeros({4, 576, kE + 1}), {{0, 0, 10, 10}}, 640, 360), InputError);
  EXPECT_THROW(encoder_->extract({fused_->at(0)}, prepare_region_boxes({{0, 0, 1, 1}}, 2, 2)), InputError);
}

TEST(RegionEncoderLoad, MissingAndMisShapedKeysAreListedAndTheEncoderRefusesToRun) {
  auto weights = synthetic_weights();
  weights.erase(kPrefix + "roi_align.updims.bias");
  weights[kPrefix + "roi_align.pconvs.2.bias"] = at::zeros({kE + 1}).to(at::kBFloat16);
  const fs::path file = write_checkpoint(weights, "bad");
  WeightStore store = WeightStore::open(file);
  const RegionEncoder enc = RegionEncoder::load(store);
  try {
    store.finish({kPrefix});
    FAIL() << "finish() accepted a checkpoint with a missing key";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("roi_align.updims.bias"), std::string::npos) << m;
    EXPECT_NE(m.find("roi_align.pconvs.2.bias"), std::string::npos) << m;
  }
  EXPECT_THROW(enc.forward(at::zeros({4, 576, kE}), {{0, 0, 10, 10}}, 640, 360), InputError);
  fs::remove_all(file.parent_path());
}

TEST(RegionEncoderLoad, EmbedSizeMustSuitTheSixtyFourGroupNorm) {
  const fs::path file = write_checkpoint(synthetic_weights(96), "e96");
  WeightStore store = WeightStore::open(file);
  EXPECT_THROW(RegionEncoder::load(store), InputError);
  fs::remove_all(file.parent_path());
}
