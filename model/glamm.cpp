// GLaMM end to end (see glamm.h): CLIP → projector (+ region encoder) → LLaMA greedy generation or teacher-forced
// forward → [SEG] hidden states → L-P projection → SAM encoder + mask decoder → compressed RLE.
// Reference: groundingLMM model/GLaMM.py GLaMMForCausalLM.evaluate (generation) and model_forward(inference=True)
// (teacher forcing); eval/gcg/infer.py and eval/region_captioning/infer.py for the text handling.
#include "model/glamm.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/error.h"
#include "common/io.h"
#include "model/clip_vision.h"
#include "model/conversation.h"
#include "model/generation.h"
#include "model/glamm_config.h"
#include "model/image.h"
#include "model/image_preprocess.h"
#include "model/llama.h"
#include "model/llama_tokenizer.h"
#include "model/projector.h"
#include "model/region_encoder.h"
#include "model/sam_image_encoder.h"
#include "model/sam_mask_decoder.h"
#include "model/text_postprocess.h"
#include "model/weights.h"

namespace glamm::model {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// A float vector laid out as `shape` → a tensor that owns a copy.
at::Tensor tensor_from(const std::vector<float>& v, at::IntArrayRef shape) {
  return at::from_blob(const_cast<float*>(v.data()), shape, at::TensorOptions().dtype(at::kFloat)).clone();
}

class Glamm final : public InferenceModel {
 public:
  explicit Glamm(const GlammOptions& options) : options_(options) {
    c10::Device device(c10::kCPU);
    try {
      device = c10::Device(options.device);
    } catch (const std::exception&) {
      throw InputError("", "--device", "'" + options.device + "' is not a device (cpu, cuda, cuda:N)");
    }
    if (device.is_cuda() && !at::hasCUDA())
      throw InputError("", "--device",
                       "'" + options.device + "': this build's libtorch has no CUDA or no GPU is visible (use --device cpu)");
    if (!device.is_cpu() && !device.is_cuda())
      throw InputError("", "--device", "'" + options.device + "' is not supported (cpu, cuda, cuda:N)");
    if (options.dtype != "fp32" && options.dtype != "bf16")
      throw InputError("", "--dtype", "'" + options.dtype + "' is not fp32 or bf16");
    const fs::path config_json = options.checkpoint / "config.json";
    config_ = GlammConfig::from_json_file(config_json);
    WeightStore ws = WeightStore::open(options.checkpoint);
    config_.check_shapes(shape_lookup(ws), config_json.string());
    tokenizer_ = std::make_unique<LlamaTokenizer>(LlamaTokenizer::load(options.checkpoint, options.legacy_tokenizer));
    {
      // The ids the model uses must be the tokenizer's (added_tokens.json) — a mismatch would silently drop masks.
      const int64_t seg = tokenizer_->token_to_id("[SEG]");
      const int64_t bbox = tokenizer_->token_to_id("<bbox>");
      if (seg != config_.seg_token_id || bbox != config_.bbox_token_id)
        throw InputError(options.checkpoint.string(), "added_tokens.json",
                         "[SEG]/<bbox> ids (" + std::to_string(seg) + ", " + std::to_string(bbox) +
                             ") differ from the model's (" + std::to_string(config_.seg_token_id) + ", " +
                             std::to_string(config_.bbox_token_id) + ")");
    }
    llm_ = std::make_unique<Llama>(Llama::load(ws, config_.llm));
    projector_ = std::make_unique<Projector>(Projector::load(ws, config_.mm_hidden_size, config_.llm.hidden_size));
    has_region_ = ws.contains("model.region_encoder.roi_align.updims.weight");
    if (has_region_) region_ = std::make_unique<RegionEncoder>(RegionEncoder::load(ws));
    sam_encoder_ = std::make_unique<SamImageEncoder>(SamImageEncoder::load(ws));
    prompt_encoder_ = std::make_unique<SamPromptEncoder>(SamPromptEncoder::load(ws));
    mask_decoder_ = std::make_unique<SamMaskDecoder>(SamMaskDecoder::load(ws, config_.sam_mask_decoder_num_heads));
    text_fcs_ = std::make_unique<TextHiddenProjection>(TextHiddenProjection::load(ws));
    ws.finish();  // every missing, mis-shaped and unexpected key of the GLaMM checkpoint at once
    weight_files_ = ws.files();
    weight_bytes_ = ws.bytes_loaded();

    clip_ = std::make_unique<ClipVisionTower>(
        ClipVisionTower::load_folder(options.clip, config_.mm_vision_select_layer, config_.num_level_reg_features));
    const fs::path pp = options.clip / "preprocessor_config.json";
    if (fs::exists(pp)) clip_pp_ = load_clip_preprocess_config(pp);
    if (options.dtype == "bf16") {
      // The official evaluation's precision (model.bfloat16(), vision tower bf16, inputs .bfloat16()): every
      // component converts its weights once and computes in bf16 where the reference does.
      llm_->set_compute_dtype(at::kBFloat16);
      projector_->set_compute_dtype(at::kBFloat16);
      if (region_) region_->set_compute_dtype(at::kBFloat16);
      sam_encoder_->set_compute_dtype(at::kBFloat16);
      prompt_encoder_->set_compute_dtype(at::kBFloat16);
      mask_decoder_->set_compute_dtype(at::kBFloat16);
      text_fcs_->set_compute_dtype(at::kBFloat16);
      clip_->set_compute_dtype(at::kBFloat16);
    }
    if (!device.is_cpu()) {
      // Every component on the device (inputs are moved by each forward; masks come back for RLE encoding).
      llm_->to(device);
      projector_->to(device);
      if (region_) region_->to(device);
      sam_encoder_->to(device);
      prompt_encoder_->to(device);
      mask_decoder_->to(device);
      text_fcs_->to(device);
      clip_->to(device);
    }
    special_.bbox = config_.bbox_token_id;
    special_.seg = config_.seg_token_id;
    special_.eos = config_.eos_token_id;
    special_.image = config_.image_token_id;
  }

  GlammOutput generate(const fs::path& image, const std::string& instruction,
                       const std::vector<RegionBox>& boxes) override {
    std::vector<GenerateResult> r = generate_batch({GenerateRequest{image, instruction, boxes}});
    if (r[0].error) std::rethrow_exception(r[0].error);
    return std::move(r[0].output);
  }

  std::vector<GenerateResult> generate_batch(const std::vector<GenerateRequest>& requests) override {
    c10::InferenceMode guard;
    std::vector<GenerateResult> results(requests.size());
    // Per request: image, CLIP + projector, prompt, regions, inputs_embeds (an InputError fails that request only).
    struct Prepared {
      std::size_t index;
      ImageU8 img;
      at::Tensor embeds;
    };
    std::vector<Prepared> ready;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const GenerateRequest& q = requests[i];
      GlammOutput& out = results[i].output;
      try {
        Prepared p{i, load_image_rgb(q.image), at::Tensor()};
        const Encoded enc = encode_image(p.img, out);
        const std::string prompt = conv::single_turn_prompt(q.instruction);
        out.prompt_ids = tokenizer_->encode_with_image(prompt);
        const int64_t n_bbox = std::count(out.prompt_ids.begin(), out.prompt_ids.end(), special_.bbox);
        if (n_bbox > static_cast<int64_t>(q.boxes.size()))
          throw InputError(q.image.string(), "boxes",
                           "the instruction has " + std::to_string(n_bbox) + " <bbox> tokens but " +
                               std::to_string(q.boxes.size()) + " boxes were given");
        const at::Tensor region_vectors = regions(enc, q.boxes, p.img, out);
        auto t0 = Clock::now();
        p.embeds = build_inputs_embeds(*llm_, out.prompt_ids, enc.image_vectors, region_vectors, special_);
        out.seconds["llm"] = seconds_since(t0);
        ready.push_back(std::move(p));
      } catch (const InputError&) {
        results[i].error = std::current_exception();
      }
    }
    if (ready.empty()) return results;
    // Greedy decoding of all of them together (each as if alone).
    std::vector<std::vector<int64_t>> prompts;
    std::vector<at::Tensor> embeds;
    for (const Prepared& p : ready) {
      prompts.push_back(results[p.index].output.prompt_ids);
      embeds.push_back(p.embeds);
    }
    GenerateOptions go;
    go.max_new_tokens = options_.max_new_tokens;
    go.kv_cache = options_.kv_cache;
    go.special = special_;
    const std::vector<GenerationTrace> traces = greedy_generate_batch(*llm_, prompts, embeds, go);
    for (std::size_t j = 0; j < ready.size(); ++j) {
      const GenerationTrace& trace = traces[j];
      GlammOutput& out = results[ready[j].index].output;
      out.seconds["prefill"] = trace.prefill_seconds;
      out.seconds["decode"] = trace.decode_seconds;
      out.seconds["llm"] += trace.prefill_seconds + trace.decode_seconds;
      out.generated_ids = trace.generated_ids;
      std::vector<int64_t> sequence = out.prompt_ids;
      sequence.insert(sequence.end(), trace.generated_ids.begin(), trace.generated_ids.end());
      finish_text(sequence, out);
      if (trace.seg_hidden.defined() && trace.seg_hidden.size(0) > 0) decode_masks(ready[j].img, trace.seg_hidden, out);
    }
    return results;
  }

  GlammOutput teacher_forced(const fs::path& image, const std::vector<ChatRound>& rounds) override {
    c10::InferenceMode guard;
    GlammOutput out;
    const ImageU8 img = load_image_rgb(image);
    const Encoded enc = encode_image(img, out);
    std::vector<conv::Round> conv_rounds;
    for (const ChatRound& r : rounds) conv_rounds.push_back({r.user, r.assistant});
    if (conv_rounds.empty()) throw InputError(image.string(), "conversation", "no rounds given");
    // teacher_forced_conversation puts the image prefix in front of the first user turn, as the official refseg
    // evaluation builds it.
    out.prompt_ids = tokenizer_->encode_with_image(conv::teacher_forced_conversation(conv_rounds));
    if (std::count(out.prompt_ids.begin(), out.prompt_ids.end(), special_.bbox) > 0)
      throw InputError(image.string(), "conversation", "<bbox> tokens need boxes; teacher forcing takes none");

    auto t0 = Clock::now();
    const TeacherForcedTrace tf = model::teacher_forced(*llm_, out.prompt_ids, enc.image_vectors, at::Tensor(), special_);
    out.seconds["llm"] = seconds_since(t0);
    finish_text(out.prompt_ids, out);
    if (tf.seg_hidden.defined() && tf.seg_hidden.size(0) > 0) decode_masks(img, tf.seg_hidden, out);
    return out;
  }

  std::map<std::string, std::string> describe() const override {
    std::map<std::string, std::string> d;
    d["checkpoint"] = options_.checkpoint.string();
    d["clip"] = options_.clip.string();
    d["device"] = options_.device;
    d["dtype"] = options_.dtype;
    d["kv_cache"] = options_.kv_cache ? "true" : "false";
    d["max_new_tokens"] = std::to_string(options_.max_new_tokens);
    d["threads"] = std::to_string(at::get_num_threads());
    d["tokenizer"] = options_.legacy_tokenizer ? "legacy (transformers 4.29)" : "non-legacy (transformers >= 4.31)";
    d["llm"] = "hidden " + std::to_string(config_.llm.hidden_size) + ", layers " +
               std::to_string(config_.llm.num_hidden_layers) + ", heads " +
               std::to_string(config_.llm.num_attention_heads) + ", vocab " + std::to_string(config_.llm.vocab_size);
    d["weights_bytes"] = std::to_string(weight_bytes_);
    // Checksums of the small files that identify a checkpoint; the weight files are identified by name and size
    // (hashing 17 GB of shards would take minutes on every run).
    for (const char* f : {"config.json", "pytorch_model.bin.index.json", "model.safetensors.index.json",
                          "added_tokens.json", "tokenizer.model"}) {
      const fs::path p = options_.checkpoint / f;
      if (fs::exists(p)) d[std::string("sha256:") + f] = io::sha256_file(p);
    }
    for (const fs::path& p : weight_files_)
      d["size:" + p.filename().string()] = std::to_string(fs::file_size(p));
    const fs::path clip_cfg = options_.clip / "config.json";
    if (fs::exists(clip_cfg)) d["sha256:clip/config.json"] = io::sha256_file(clip_cfg);
    return d;
  }

 private:
  struct Encoded {
    ClipVisionOutput clip;
    at::Tensor image_vectors;  // [576, D]
  };

  /// CLIP features and projected image tokens of `img`; records the image size and the time in `out`.
  Encoded encode_image(const ImageU8& img, GlammOutput& out) const {
    auto t0 = Clock::now();
    out.image_height = img.height;
    out.image_width = img.width;
    Encoded e;
    const std::vector<float> px = clip_pixel_values(img, clip_pp_);
    const int64_t ch = clip_pp_.crop_height, cw = clip_pp_.crop_width;
    e.clip = clip_->forward(tensor_from(px, {1, 3, ch, cw}));
    e.image_vectors = projector_->forward(e.clip.patches);
    out.seconds["clip"] = seconds_since(t0);
    return e;
  }

  at::Tensor regions(const Encoded& enc, const std::vector<RegionBox>& boxes, const ImageU8& img,
                     GlammOutput& out) const {
    if (boxes.empty()) return at::Tensor();
    if (!has_region_)
      throw InputError(options_.checkpoint.string(), "region_encoder",
                       "boxes were given but the checkpoint has no region encoder");
    auto t0 = Clock::now();
    at::Tensor v = region_->forward(enc.clip.region_levels, boxes, img.width, img.height);
    out.seconds["region"] = seconds_since(t0);
    return v;
  }

  void finish_text(const std::vector<int64_t>& sequence, GlammOutput& out) const {
    out.raw_decode = tokenizer_->decode(without_image_tokens(sequence));
    GcgText t = postprocess_gcg(out.raw_decode);
    out.text_output = std::move(t.text_output);
    out.caption = std::move(t.caption);
    out.phrases = std::move(t.phrases);
  }

  void decode_masks(const ImageU8& img, const at::Tensor& seg_hidden, GlammOutput& out) const {
    auto t0 = Clock::now();
    const SamInput si = sam_preprocess(img);
    const at::Tensor sam_in = tensor_from(si.pixels, {1, 3, si.input_size, si.input_size});
    const at::Tensor embeddings = sam_encoder_->forward(sam_in);
    out.seconds["sam_encoder"] = seconds_since(t0);
    auto t1 = Clock::now();
    const at::Tensor prompts = text_fcs_->forward(seg_hidden.to(at::kFloat));
    const at::Tensor logits = sam_full_res_logits(*prompt_encoder_, *mask_decoder_, embeddings, prompts,
                                                  si.resize_hw(), {img.height, img.width}, si.input_size);
    out.masks = sam_masks_to_rle(logits);
    out.seconds["mask_decoder"] = seconds_since(t1);
  }

  GlammOptions options_;
  GlammConfig config_;
  SpecialIds special_;
  std::unique_ptr<LlamaTokenizer> tokenizer_;
  std::unique_ptr<Llama> llm_;
  std::unique_ptr<Projector> projector_;
  bool has_region_ = false;
  std::unique_ptr<RegionEncoder> region_;
  std::unique_ptr<SamImageEncoder> sam_encoder_;
  std::unique_ptr<SamPromptEncoder> prompt_encoder_;
  std::unique_ptr<SamMaskDecoder> mask_decoder_;
  std::unique_ptr<TextHiddenProjection> text_fcs_;
  std::unique_ptr<ClipVisionTower> clip_;
  ClipPreprocessConfig clip_pp_;
  std::vector<fs::path> weight_files_;
  int64_t weight_bytes_ = 0;
};

}  // namespace

std::unique_ptr<InferenceModel> load_glamm(const GlammOptions& options) {
  c10::InferenceMode guard;
  // Debian's libtorch starts with one intra-op thread per physical core (1 on a 2-vCPU machine).
  int threads = options.threads;
  if (threads <= 0) {
    const char* omp = std::getenv("OMP_NUM_THREADS");
    threads = omp && std::atoi(omp) > 0 ? std::atoi(omp) : static_cast<int>(std::thread::hardware_concurrency());
  }
  if (threads > 0) at::set_num_threads(threads);
  return std::make_unique<Glamm>(options);
}

}  // namespace glamm::model
