// GLaMM's use of the LLM: the prefill inputs_embeds (image splice + <bbox> region vectors), greedy decoding with
// the per-step records the golden reference keeps, the [SEG] hidden-state gathering (offset logic), and the
// teacher-forced forward of the referring-segmentation evaluation.
// Reference: groundingLMM model/llava/llava_with_region_arch.py `prepare_inputs_labels_for_multimodal` (splice,
// <bbox> replacement), model/GLaMM.py `evaluate` / `_process_hidden_states` / `model_forward(inference=True)`
// (the 575-offset [SEG] mask), transformers 4.29 `greedy_search` (argmax, EOS included, no cache).
// Spec: glamm-model.md §4.4, §4.6 (teacher-forced RefSeg), §5.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "model/llama.h"

namespace glamm::model {

/// Token ids GLaMM reserves (defaults: the released checkpoints).
struct SpecialIds {
  int64_t image = -200;   ///< IMAGE_TOKEN_INDEX placeholder (exactly one per prompt)
  int64_t bbox = 32002;   ///< <bbox> (config bbox_token_idx)
  int64_t seg = 32004;    ///< [SEG]
  int64_t eos = 2;        ///< </s>
};

/// The expanded prefill sequence: embed(ids[:k]) ++ image_vectors ++ embed(ids[k+1:]), where ids[k] is the
/// image placeholder, then the embedding at the expanded position of the m-th <bbox> token (in order) replaced
/// by region_vectors[m]; region vectors beyond the number of <bbox> tokens are dropped.
/// ids: prompt ids with exactly one `special.image`; image_vectors [n_img, D] (projector output, 576×D);
/// region_vectors [n, D] or undefined (no boxes). Returns [len(ids) − 1 + n_img, D] fp32.
/// Throws std::invalid_argument when ids hold no or several image placeholders or a width differs, and
/// InputError(“”, "prompt", …) when there are more <bbox> tokens than region vectors.
at::Tensor build_inputs_embeds(const Llama& llm, const std::vector<int64_t>& ids, const at::Tensor& image_vectors,
                               const at::Tensor& region_vectors = at::Tensor(), const SpecialIds& special = {});

/// Rows of the (last-step) hidden-state tensor from which the reference takes the [SEG] vectors: for every j
/// with sequence[j+1] == seg, row j + n_img − 1 (the mask `[0]*(n_img−1) ++ (S[1:] == seg)`; with the image
/// placeholder before position j this is the position preceding that [SEG] in the expanded sequence).
/// `sequence` is prompt (with the placeholder) + generated ids, or the teacher-forced ids.
std::vector<int64_t> seg_hidden_rows(const std::vector<int64_t>& sequence, int64_t n_img, const SpecialIds& special = {});

struct GenerateOptions {
  int64_t max_new_tokens = 512;  ///< new tokens at most (EOS counted); 0 → nothing generated
  bool kv_cache = true;          ///< false: recompute the whole sequence every step (the reference's way)
  int64_t top_k = 5;             ///< ids/logits recorded per step
  SpecialIds special;
};

/// What greedy decoding produced, step by step (fp32 CPU tensors).
struct GenerationTrace {
  std::vector<int64_t> generated_ids;  ///< argmax per step; ends with EOS when it was reached
  at::Tensor top_ids;                  ///< [steps, top_k] int64 (topk order: largest first)
  at::Tensor top_logits;               ///< [steps, top_k]
  at::Tensor step_last_hidden;         ///< [steps, D]: final-norm hidden state at the last position per step
  at::Tensor final_step_hidden;        ///< [N + n_img − 1, D], N = |prompt ++ generated| − 1: the last step's states
  std::vector<int64_t> seg_rows;       ///< rows of final_step_hidden used for [SEG] (seg_hidden_rows)
  at::Tensor seg_hidden;               ///< [n_seg, D]: those rows (= the states whose logits produced each [SEG])
  int64_t prefill_tokens = 0;          ///< expanded prompt length
  double prefill_seconds = 0;          ///< first forward (prefill + first token's logits)
  double decode_seconds = 0;           ///< all later steps
};

/// Greedy decoding from `inputs_embeds` [L, D] (build_inputs_embeds of `prompt_ids`): each step takes the
/// argmax of the last position's logits, stops after EOS (included) or max_new_tokens. With the KV cache the
/// prompt is processed once and each new token alone; the last step's hidden states are then the prefill
/// states followed by the per-step states (identical to a full recomputation under causal attention).
/// Throws std::invalid_argument for mismatched shapes, std::length_error past max_position_embeddings.
GenerationTrace greedy_generate(const Llama& llm, const std::vector<int64_t>& prompt_ids,
                                const at::Tensor& inputs_embeds, const GenerateOptions& options = {});

/// Batched greedy decoding (`--batch-size`): each prompt is prefilled alone, then every pass decodes one token for
/// each unfinished sequence (Llama::forward_batch: the weights are read once per pass, each sequence keeps its own
/// KV cache, so no padding); a sequence stops at its own EOS or max_new_tokens. Every trace is bit-identical to
/// greedy_generate of that prompt alone (tokens, logits, hidden states, [SEG] rows), timings aside: decode_seconds
/// is the sequence's share of the passes it took part in. Without the KV cache (options.kv_cache false) the
/// prompts are simply run one after another. Same errors as greedy_generate, plus std::invalid_argument when the
/// two lists differ in length.
std::vector<GenerationTrace> greedy_generate_batch(const Llama& llm,
                                                   const std::vector<std::vector<int64_t>>& prompt_ids,
                                                   const std::vector<at::Tensor>& inputs_embeds,
                                                   const GenerateOptions& options = {});

/// Teacher-forced forward (the official RefSeg evaluation): one pass over the whole conversation.
struct TeacherForcedTrace {
  at::Tensor inputs_embeds;      ///< [len(ids) − 1 + n_img, D]
  at::Tensor hidden;             ///< final-norm hidden states, same shape
  std::vector<int64_t> seg_rows; ///< seg_hidden_rows(ids)
  at::Tensor seg_hidden;         ///< [n_seg, D]
};

/// Build the inputs (build_inputs_embeds), run the decoder once without cache and gather the [SEG] vectors.
/// Same errors as build_inputs_embeds and Llama::forward.
TeacherForcedTrace teacher_forced(const Llama& llm, const std::vector<int64_t>& ids, const at::Tensor& image_vectors,
                                  const at::Tensor& region_vectors = at::Tensor(), const SpecialIds& special = {});

}  // namespace glamm::model
