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

namespace {

/// One sequence being decoded: its trace and the per-step records stacked at the end.
struct Decoding {
  GenerationTrace tr;
  KvCache cache;
  at::Tensor prefill_hidden;  // KV cache: the prompt's states
  at::Tensor last_full_hidden;  // full recomputation: the last step's states
  std::vector<at::Tensor> top_ids, top_logits, step_hidden;
  bool done = false;
};

/// Record one step from the last position's logits [vocab] and hidden state [D]; done after EOS or the limit.
void record_step(Decoding& d, const at::Tensor& logits, const at::Tensor& h_last, int64_t k,
                 const GenerateOptions& options) {
  const int64_t id = logits.argmax().item<int64_t>();
  auto [vals, idx] = at::topk(logits, k);
  d.top_ids.push_back(idx);
  d.top_logits.push_back(vals);
  d.step_hidden.push_back(h_last);
  d.tr.generated_ids.push_back(id);
  d.done = id == options.special.eos || static_cast<int64_t>(d.tr.generated_ids.size()) >= options.max_new_tokens;
}

/// Stack the step records and gather the [SEG] states (see GenerationTrace).
GenerationTrace finish_trace(Decoding& d, const Llama& llm, const std::vector<int64_t>& prompt_ids, int64_t L,
                             int64_t k, const GenerateOptions& options) {
  GenerationTrace& tr = d.tr;
  const int64_t D = llm.config().hidden_size;
  const int64_t extra = L - static_cast<int64_t>(prompt_ids.size());
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(llm.device());
  const int64_t steps = static_cast<int64_t>(tr.generated_ids.size());
  tr.top_ids = steps ? at::stack(d.top_ids, 0) : at::empty({0, k}, f32.dtype(at::kLong));
  tr.top_logits = steps ? at::stack(d.top_logits, 0) : at::empty({0, k}, f32);
  tr.step_last_hidden = steps ? at::stack(d.step_hidden, 0) : at::empty({0, D}, f32);
  if (steps == 0) {
    tr.final_step_hidden = at::empty({0, D}, f32);
  } else if (options.kv_cache) {
    // The last step saw prompt ++ generated[:-1]: prefill rows, then the states of generated[0..steps-2].
    tr.final_step_hidden = steps > 1 ? at::cat({d.prefill_hidden, tr.step_last_hidden.narrow(0, 1, steps - 1)}, 0)
                                     : d.prefill_hidden;
  } else {
    tr.final_step_hidden = d.last_full_hidden;
  }
  std::vector<int64_t> sequence = prompt_ids;
  sequence.insert(sequence.end(), tr.generated_ids.begin(), tr.generated_ids.end());
  if (steps > 0) {
    tr.seg_rows = seg_hidden_rows(sequence, extra + 1, options.special);
    tr.seg_hidden = gather_rows(tr.final_step_hidden, tr.seg_rows);
  } else {
    tr.seg_hidden = at::empty({0, D}, f32);
  }
  return std::move(d.tr);
}

void check_embeds(const Llama& llm, const at::Tensor& inputs_embeds) {
  const int64_t D = llm.config().hidden_size;
  if (inputs_embeds.dim() != 2 || inputs_embeds.size(1) != D || inputs_embeds.size(0) == 0)
    throw std::invalid_argument("inputs_embeds must be [L>0, " + std::to_string(D) + "], got " +
                                shape_text(inputs_embeds.sizes().vec()));
}

}  // namespace

std::vector<GenerationTrace> greedy_generate_batch(const Llama& llm,
                                                   const std::vector<std::vector<int64_t>>& prompt_ids,
                                                   const std::vector<at::Tensor>& inputs_embeds,
                                                   const GenerateOptions& options) {
  c10::InferenceMode guard;
  if (prompt_ids.size() != inputs_embeds.size())
    throw std::invalid_argument("greedy_generate_batch: " + std::to_string(prompt_ids.size()) + " prompts and " +
                                std::to_string(inputs_embeds.size()) + " inputs_embeds");
  for (const at::Tensor& e : inputs_embeds) check_embeds(llm, e);
  std::vector<GenerationTrace> out;
  if (!options.kv_cache) {  // full recomputation: nothing to share between sequences
    for (std::size_t b = 0; b < prompt_ids.size(); ++b)
      out.push_back(greedy_generate(llm, prompt_ids[b], inputs_embeds[b], options));
    return out;
  }
  const std::size_t B = prompt_ids.size();
  const int64_t k = std::min<int64_t>(options.top_k, llm.config().vocab_size);
  std::vector<Decoding> seq(B);
  // Prefill each prompt alone (compute-bound; a lone sequence's exact call), with its first token.
  for (std::size_t b = 0; b < B; ++b) {
    Decoding& d = seq[b];
    d.tr.prefill_tokens = inputs_embeds[b].size(0);
    if (options.max_new_tokens <= 0) {
      d.done = true;
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    d.prefill_hidden = llm.forward(inputs_embeds[b].to(llm.device(), at::kFloat), &d.cache);
    const at::Tensor h_last = d.prefill_hidden[d.prefill_hidden.size(0) - 1];
    record_step(d, llm.logits(h_last.unsqueeze(0))[0], h_last, k, options);
    d.tr.prefill_seconds = seconds_since(t0);
  }
  // Decode: one token for every unfinished sequence per pass. Each sequence is charged the wall time of the passes
  // it took part in divided by the number of sequences in them.
  for (;;) {
    std::vector<std::size_t> active;
    for (std::size_t b = 0; b < B; ++b)
      if (!seq[b].done) active.push_back(b);
    if (active.empty()) break;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<at::Tensor> in;
    std::vector<KvCache*> caches;
    for (std::size_t b : active) {
      in.push_back(llm.embed(at::tensor({seq[b].tr.generated_ids.back()}, at::TensorOptions().dtype(at::kLong))));
      caches.push_back(&seq[b].cache);
    }
    const std::vector<at::Tensor> h = llm.forward_batch(in, caches);
    std::vector<at::Tensor> last;
    for (const at::Tensor& x : h) last.push_back(x[0]);
    const at::Tensor logits = active.size() == 1 ? llm.logits(last[0].unsqueeze(0)) : llm.logits_rows(at::stack(last, 0));
    for (std::size_t i = 0; i < active.size(); ++i)
      record_step(seq[active[i]], logits[static_cast<int64_t>(i)], last[i], k, options);
    const double share = seconds_since(t0) / static_cast<double>(active.size());
    for (std::size_t b : active) seq[b].tr.decode_seconds += share;
  }
  for (std::size_t b = 0; b < B; ++b)
    out.push_back(finish_trace(seq[b], llm, prompt_ids[b], inputs_embeds[b].size(0), k, options));
  return out;
}

GenerationTrace greedy_generate(const Llama& llm, const std::vector<int64_t>& prompt_ids,
                                const at::Tensor& inputs_embeds, const GenerateOptions& options) {
  c10::InferenceMode guard;
  check_embeds(llm, inputs_embeds);
  if (options.kv_cache) return std::move(greedy_generate_batch(llm, {prompt_ids}, {inputs_embeds}, options)[0]);
  // Full recomputation (the reference's way): the whole sequence through the decoder at every step.
  const int64_t L = inputs_embeds.size(0);
  const int64_t k = std::min<int64_t>(options.top_k, llm.config().vocab_size);
  Decoding d;
  d.tr.prefill_tokens = L;
  at::Tensor full_embeds = inputs_embeds.to(llm.device(), at::kFloat);
  const auto t0 = std::chrono::steady_clock::now();
  auto t_decode = t0;
  for (int64_t step = 0; step < options.max_new_tokens && !d.done; ++step) {
    if (step > 0) {
      const at::Tensor e = llm.embed(at::tensor({d.tr.generated_ids.back()}, at::TensorOptions().dtype(at::kLong)));
      full_embeds = at::cat({full_embeds, e}, 0);
    }
    d.last_full_hidden = llm.forward(full_embeds, nullptr);
    const at::Tensor h_last = d.last_full_hidden[d.last_full_hidden.size(0) - 1];
    record_step(d, llm.logits(h_last.unsqueeze(0))[0], h_last, k, options);
    if (step == 0) {
      d.tr.prefill_seconds = seconds_since(t0);
      t_decode = std::chrono::steady_clock::now();
    }
  }
  if (!d.tr.generated_ids.empty()) d.tr.decode_seconds = seconds_since(t_decode);
  return finish_trace(d, llm, prompt_ids, L, k, options);
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
