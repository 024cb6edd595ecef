// Prefill splice, greedy decoding with per-step records, [SEG] gathering, teacher-forced forward. See generation.h.
#include "model/generation.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace glamm::model {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

at::Tensor ids_tensor(const std::vector<int64_t>& ids, std::size_t begin, std::size_t end) {
  return at::tensor(std::vector<int64_t>(ids.begin() + begin, ids.begin() + end), at::TensorOptions().dtype(at::kLong));
}

}  // namespace

at::Tensor build_inputs_embeds(const Llama& llm, const std::vector<int64_t>& ids, const at::Tensor& image_vectors,
                               const at::Tensor& region_vectors, const SpecialIds& special) {
  c10::InferenceMode guard;
  const int64_t D = llm.config().hidden_size;
  std::size_t k = ids.size();
  int n_image = 0;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == special.image) {
      k = i;
      ++n_image;
    }
  if (n_image != 1)
    throw std::invalid_argument("prompt ids must hold exactly one image placeholder " + std::to_string(special.image) +
                                ", found " + std::to_string(n_image));
  if (image_vectors.dim() != 2 || image_vectors.size(1) != D)
    throw std::invalid_argument("image vectors must be [n, " + std::to_string(D) + "], got " +
                                shape_text(image_vectors.sizes().vec()));
  const int64_t n_img = image_vectors.size(0);
  std::vector<at::Tensor> parts;
  if (k > 0) parts.push_back(llm.embed(ids_tensor(ids, 0, k)));
  parts.push_back(image_vectors.to(llm.device(), at::kFloat));
  if (k + 1 < ids.size()) parts.push_back(llm.embed(ids_tensor(ids, k + 1, ids.size())));
  at::Tensor embeds = at::cat(parts, 0);

  // <bbox> positions in the expanded sequence, in order; the m-th gets region_vectors[m].
  std::vector<int64_t> bbox_rows;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == special.bbox) bbox_rows.push_back(static_cast<int64_t>(i) + (i > k ? n_img - 1 : 0));
  if (bbox_rows.empty()) return embeds;
  const int64_t n_regions = region_vectors.defined() ? region_vectors.size(0) : 0;
  if (static_cast<int64_t>(bbox_rows.size()) > n_regions)
    throw InputError("", "prompt",
                     std::to_string(bbox_rows.size()) + " <bbox> tokens but " + std::to_string(n_regions) +
                         " region boxes");
  if (region_vectors.dim() != 2 || region_vectors.size(1) != D)
    throw std::invalid_argument("region vectors must be [n, " + std::to_string(D) + "], got " +
                                shape_text(region_vectors.sizes().vec()));
  const at::Tensor rv = region_vectors.to(llm.device(), at::kFloat);
  for (std::size_t m = 0; m < bbox_rows.size(); ++m) embeds[bbox_rows[m]].copy_(rv[static_cast<int64_t>(m)]);
  return embeds;
}

std::vector<int64_t> seg_hidden_rows(const std::vector<int64_t>& sequence, int64_t n_img, const SpecialIds& special) {
  std::vector<int64_t> rows;
  for (std::size_t j = 0; j + 1 < sequence.size(); ++j)
    if (sequence[j + 1] == special.seg) rows.push_back(static_cast<int64_t>(j) + n_img - 1);
  return rows;
}

namespace {

at::Tensor gather_rows(const at::Tensor& hidden, const std::vector<int64_t>& rows) {
  for (int64_t r : rows)
    if (r < 0 || r >= hidden.size(0))
      throw std::invalid_argument("[SEG] row " + std::to_string(r) + " outside the " +
                                  std::to_string(hidden.size(0)) + " hidden states");
  return at::index_select(hidden, 0, at::tensor(rows, at::TensorOptions().dtype(at::kLong)).to(hidden.device()));
}

}  // namespace

GenerationTrace greedy_generate(const Llama& llm, const std::vector<int64_t>& prompt_ids,
                                const at::Tensor& inputs_embeds, const GenerateOptions& options) {
  c10::InferenceMode guard;
  const int64_t D = llm.config().hidden_size;
  if (inputs_embeds.dim() != 2 || inputs_embeds.size(1) != D || inputs_embeds.size(0) == 0)
    throw std::invalid_argument("inputs_embeds must be [L>0, " + std::to_string(D) + "], got " +
                                shape_text(inputs_embeds.sizes().vec()));
  const int64_t L = inputs_embeds.size(0);
  // Image vectors in the expanded sequence beyond the placeholder (575 for a 576-token image).
  const int64_t extra = L - static_cast<int64_t>(prompt_ids.size());
  GenerationTrace tr;
  tr.prefill_tokens = L;
  std::vector<at::Tensor> top_ids, top_logits, step_hidden;
  KvCache cache;
  at::Tensor prefill_hidden, full_embeds = inputs_embeds.to(llm.device(), at::kFloat), last_full_hidden;
  const auto t0 = std::chrono::steady_clock::now();
  auto t_decode = t0;
  const int64_t k = std::min<int64_t>(options.top_k, llm.config().vocab_size);
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    at::Tensor h_last;
    if (options.kv_cache) {
      if (step == 0) {
        prefill_hidden = llm.forward(full_embeds, &cache);
        h_last = prefill_hidden[L - 1];
      } else {
        const at::Tensor e = llm.embed(at::tensor({tr.generated_ids.back()}, at::TensorOptions().dtype(at::kLong)));
        h_last = llm.forward(e, &cache)[0];
      }
    } else {
      if (step > 0) {
        const at::Tensor e = llm.embed(at::tensor({tr.generated_ids.back()}, at::TensorOptions().dtype(at::kLong)));
        full_embeds = at::cat({full_embeds, e}, 0);
      }
      last_full_hidden = llm.forward(full_embeds, nullptr);
      h_last = last_full_hidden[last_full_hidden.size(0) - 1];
    }
    const at::Tensor logits = llm.logits(h_last.unsqueeze(0))[0];
    const int64_t id = logits.argmax().item<int64_t>();
    auto [vals, idx] = at::topk(logits, k);
    top_ids.push_back(idx);
    top_logits.push_back(vals);
    step_hidden.push_back(h_last);
    tr.generated_ids.push_back(id);
    if (step == 0) {
      tr.prefill_seconds = seconds_since(t0);
      t_decode = std::chrono::steady_clock::now();
    }
    if (id == options.special.eos) break;
  }
  if (!tr.generated_ids.empty()) tr.decode_seconds = seconds_since(t_decode);
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(llm.device());
  const int64_t steps = static_cast<int64_t>(tr.generated_ids.size());
  tr.top_ids = steps ? at::stack(top_ids, 0) : at::empty({0, k}, f32.dtype(at::kLong));
  tr.top_logits = steps ? at::stack(top_logits, 0) : at::empty({0, k}, f32);
  tr.step_last_hidden = steps ? at::stack(step_hidden, 0) : at::empty({0, D}, f32);
  if (steps == 0) {
    tr.final_step_hidden = at::empty({0, D}, f32);
  } else if (options.kv_cache) {
    // The last step saw prompt ++ generated[:-1]: prefill rows, then the states of generated[0..steps-2].
    tr.final_step_hidden = steps > 1 ? at::cat({prefill_hidden, tr.step_last_hidden.narrow(0, 1, steps - 1)}, 0)
                                     : prefill_hidden;
  } else {
    tr.final_step_hidden = last_full_hidden;
  }
  std::vector<int64_t> sequence = prompt_ids;
  sequence.insert(sequence.end(), tr.generated_ids.begin(), tr.generated_ids.end());
  if (steps > 0) {
    tr.seg_rows = seg_hidden_rows(sequence, extra + 1, options.special);
    tr.seg_hidden = gather_rows(tr.final_step_hidden, tr.seg_rows);
  } else {
    tr.seg_hidden = at::empty({0, D}, f32);
  }
  return tr;
}

TeacherForcedTrace teacher_forced(const Llama& llm, const std::vector<int64_t>& ids, const at::Tensor& image_vectors,
                                  const at::Tensor& region_vectors, const SpecialIds& special) {
  c10::InferenceMode guard;
  TeacherForcedTrace tr;
  tr.inputs_embeds = build_inputs_embeds(llm, ids, image_vectors, region_vectors, special);
  tr.hidden = llm.forward(tr.inputs_embeds, nullptr);
  tr.seg_rows = seg_hidden_rows(ids, image_vectors.size(0), special);
  tr.seg_hidden = gather_rows(tr.hidden, tr.seg_rows);
  return tr;
}

}  // namespace glamm::model
