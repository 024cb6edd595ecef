// The GLaMM model as the task runners see it: load a released checkpoint (+ the CLIP folder), then run one
// image through generation (GCG, region captioning, image captioning, "Please segment …") or a teacher-forced
// conversation (the official referring-segmentation evaluation). Torch-free header; model/glamm.cpp wires the
// libtorch components (CLIP, projector, region encoder, LLaMA with KV cache, SAM encoder and mask decoder).
// Reference: groundingLMM model/GLaMM.py `GLaMMForCausalLM.evaluate` and `model_forward(inference=True)`,
// eval/gcg/infer.py, eval/region_captioning/infer.py. Spec: glamm-model.md §1–§5.
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace glamm::model {

/// How to load and run the model.
struct GlammOptions {
  std::filesystem::path checkpoint;  ///< HF GLaMM folder (config.json, tokenizer, shards)
  std::filesystem::path clip;        ///< CLIP ViT folder (openai/clip-vit-large-patch14-336 layout)
  std::string device = "cpu";        ///< "cpu", or "cuda" / "cuda:N" when libtorch has CUDA (not yet run on a GPU)
  std::string dtype = "fp32";        ///< "fp32" (exactness reference; weights up-cast per use) or "bf16" (the official run's precision)
  bool kv_cache = true;              ///< false: recompute the whole sequence every step, as the reference does
  int max_new_tokens = 512;          ///< generation limit (EOS included in the count as in HF generate)
  bool legacy_tokenizer = true;      ///< transformers 4.29 slow-tokenizer behaviour (glamm-model.md §3.3)
  int threads = 0;                   ///< libtorch intra-op threads; 0 = $OMP_NUM_THREADS if set, else all CPUs
};

/// A region prompt in original-image pixels, x1,y1,x2,y2 (COCO xywh must be converted first).
struct RegionBox {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

/// One predicted mask as COCO compressed RLE (pycocotools rleToString), size [height, width].
struct PredictedMask {
  int height = 0, width = 0;
  std::string counts;
};

/// What one image produced.
struct GlammOutput {
  std::vector<int64_t> prompt_ids;     ///< prompt token ids (with the single −200 image placeholder)
  std::vector<int64_t> generated_ids;  ///< new tokens (EOS included when reached); empty for teacher-forced runs
  std::string raw_decode;              ///< tokenizer decode of prompt + generated ids (−200 removed)
  std::string text_output;             ///< after the "\n" / double-space / last "ASSISTANT: " processing (§3.7)
  std::string caption;                 ///< cleaned caption (§4.6)
  std::vector<std::string> phrases;    ///< <p>…</p> contents (§4.6)
  std::vector<PredictedMask> masks;    ///< one per [SEG], in order (§4.4–4.5)
  int image_height = 0, image_width = 0;
  std::map<std::string, double> seconds;  ///< wall time per component: "clip", "prefill", "decode", "sam", ...
};

/// One round of a conversation: the user's text and the assistant's answer (teacher forcing).
struct ChatRound {
  std::string user;
  std::string assistant;
};

/// One generation request of a batch (InferenceModel::generate_batch).
struct GenerateRequest {
  std::filesystem::path image;
  std::string instruction;
  std::vector<RegionBox> boxes;
};

/// What one request of a batch gave: its output, or (error set) the InputError it failed with — one bad image does
/// not fail the others.
struct GenerateResult {
  GlammOutput output;
  std::exception_ptr error;
};

/// The model interface the runners use (a fake implements it in the runner tests). Every call carries an image and
/// the prompt always holds the image placeholder, so a [SEG] is never produced without image embeddings to decode
/// it against (the reference's situation too); a missing or unreadable image is an InputError naming the file.
class InferenceModel {
 public:
  virtual ~InferenceModel() = default;

  /// Greedy generation for one image with the llava_v1 single-turn prompt around `instruction` (which may
  /// contain `<bbox>` tokens, one per entry of `boxes`, in order). Throws InputError for an unreadable image,
  /// or more `<bbox>` tokens than boxes.
  virtual GlammOutput generate(const std::filesystem::path& image, const std::string& instruction,
                               const std::vector<RegionBox>& boxes = {}) = 0;

  /// generate() for several requests at once (`--batch-size`). The real model decodes them together
  /// (model/generation.h greedy_generate_batch: every output identical to generate() of that request alone);
  /// this default runs them one after another. An InputError of one request is returned in its result; any other
  /// error is thrown.
  virtual std::vector<GenerateResult> generate_batch(const std::vector<GenerateRequest>& requests) {
    std::vector<GenerateResult> out(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      try {
        out[i].output = generate(requests[i].image, requests[i].instruction, requests[i].boxes);
      } catch (const InputError&) {
        out[i].error = std::current_exception();
      }
    }
    return out;
  }

  /// One teacher-forced forward pass over a multi-round conversation (the image prefix goes in the first user
  /// turn; each answer ends in </s>); one mask per [SEG] in the answers, in order. generated_ids stays empty.
  virtual GlammOutput teacher_forced(const std::filesystem::path& image, const std::vector<ChatRound>& rounds) = 0;

  /// Identification for run manifests: checkpoint and CLIP folders, the sha256 of the small files that identify a
  /// checkpoint (config.json, the weight index, tokenizer files, CLIP's config.json), the weight files by name and
  /// size (hashing many GB on every run would take minutes), options, sizes read from the checkpoint.
  virtual std::map<std::string, std::string> describe() const = 0;
};

/// Load GLaMM (+ CLIP) as `options` says. Throws InputError naming the folder/file for a missing or corrupt
/// checkpoint, a config that disagrees with the tensor shapes, or missing/unexpected keys (all listed), and for a
/// device that is not cpu / cuda[:N] or a CUDA device without CUDA, or a dtype other than "fp32" / "bf16".
std::unique_ptr<InferenceModel> load_glamm(const GlammOptions& options);

}  // namespace glamm::model
