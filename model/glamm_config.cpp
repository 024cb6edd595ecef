// GLaMM / CLIP config.json reading and the config-vs-tensor-shape check (torch-free). See glamm_config.h.
#include "model/glamm_config.h"

#include <string>

#include "common/error.h"
#include "common/io.h"

namespace glamm::model {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (std::size_t k = 0; k < s.size(); ++k) t += (k ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

/// Reads optional integer / number keys of one JSON object, naming `file` and the key in errors.
struct JsonFields {
  const nlohmann::json& j;
  const std::string& file;
  std::string prefix;  // "vision_config." for nested CLIP keys (error messages only)

  bool get_int(const char* key, int64_t& v, bool positive = true) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return false;
    if (!it->is_number_integer()) throw InputError(file, prefix + key, "must be an integer");
    const int64_t x = it->get<int64_t>();
    if (positive && x <= 0) throw InputError(file, prefix + key, "must be a positive integer");
    v = x;
    return true;
  }
  void get_positive(const char* key, double& v) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_number() || it->get<double>() <= 0) throw InputError(file, prefix + key, "must be a positive number");
    v = it->get<double>();
  }
};

void require_shape(const ShapeLookup& shape_of, const std::string& file, const std::string& key,
                   const std::string& tensor, std::size_t dim, int64_t expected) {
  const auto s = shape_of(tensor);
  if (!s) return;  // missing tensors are reported by the component loader
  if (s->size() <= dim || (*s)[dim] != expected)
    throw InputError(file, key,
                     key + " = " + std::to_string(expected) + " disagrees with the checkpoint: " + tensor + " is " +
                         shape_str(*s));
}

/// Number of consecutive layers `<prefix><n><suffix>` present from 0.
int64_t count_layers(const ShapeLookup& shape_of, const std::string& prefix, const std::string& suffix) {
  int64_t n = 0;
  while (shape_of(prefix + std::to_string(n) + suffix)) ++n;
  return n;
}

void check_layer_count(const ShapeLookup& shape_of, const std::string& file, const std::string& key, int64_t layers,
                       const std::string& prefix, const std::string& suffix) {
  const int64_t found = count_layers(shape_of, prefix, suffix);
  if (found == 0) return;  // nothing stored: the loader lists the missing keys
  if (found != layers)
    throw InputError(file, key,
                     key + " = " + std::to_string(layers) + " disagrees with the checkpoint, which stores " +
                         std::to_string(found) + " layers (" + prefix + "N" + suffix + ")");
}

}  // namespace

ClipVisionConfig ClipVisionConfig::from_json_file(const std::filesystem::path& config_json) {
  const std::string file = config_json.string();
  const nlohmann::json root = io::load_json(config_json);
  if (!root.is_object()) throw InputError(file, "", "config.json is not a JSON object");
  const bool nested = root.contains("vision_config");
  if (nested && !root["vision_config"].is_object()) throw InputError(file, "vision_config", "must be an object");
  const nlohmann::json& j = nested ? root["vision_config"] : root;
  const JsonFields f{j, file, nested ? "vision_config." : ""};
  ClipVisionConfig c;
  f.get_int("hidden_size", c.hidden_size);
  f.get_int("intermediate_size", c.intermediate_size);
  f.get_int("num_hidden_layers", c.num_hidden_layers);
  f.get_int("num_attention_heads", c.num_attention_heads);
  f.get_int("image_size", c.image_size);
  f.get_int("patch_size", c.patch_size);
  f.get_int("num_channels", c.num_channels);
  f.get_positive("layer_norm_eps", c.layer_norm_eps);
  if (auto it = j.find("hidden_act"); it != j.end()) {
    if (!it->is_string()) throw InputError(file, f.prefix + "hidden_act", "must be a string");
    c.hidden_act = it->get<std::string>();
  }
  if (c.hidden_act != "quick_gelu")
    throw InputError(file, f.prefix + "hidden_act", "unsupported activation '" + c.hidden_act + "' (quick_gelu)");
  if (c.image_size % c.patch_size != 0)
    throw InputError(file, f.prefix + "image_size",
                     std::to_string(c.image_size) + " is not a multiple of patch_size " + std::to_string(c.patch_size));
  if (c.hidden_size % c.num_attention_heads != 0)
    throw InputError(file, f.prefix + "num_attention_heads",
                     "hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of " +
                         std::to_string(c.num_attention_heads) + " heads");
  return c;
}

void ClipVisionConfig::check_shapes(const ShapeLookup& shape_of, const std::string& file) const {
  const std::string p = "vision_model.";
  require_shape(shape_of, file, "hidden_size", p + "embeddings.class_embedding", 0, hidden_size);
  require_shape(shape_of, file, "num_channels", p + "embeddings.patch_embedding.weight", 1, num_channels);
  require_shape(shape_of, file, "patch_size", p + "embeddings.patch_embedding.weight", 2, patch_size);
  require_shape(shape_of, file, "image_size", p + "embeddings.position_embedding.weight", 0, num_positions());
  require_shape(shape_of, file, "intermediate_size", p + "encoder.layers.0.mlp.fc1.weight", 0, intermediate_size);
  check_layer_count(shape_of, file, "num_hidden_layers", num_hidden_layers, p + "encoder.layers.",
                    ".layer_norm1.weight");
}

GlammConfig GlammConfig::from_json_file(const std::filesystem::path& config_json) {
  const std::string file = config_json.string();
  const nlohmann::json j = io::load_json(config_json);
  if (!j.is_object()) throw InputError(file, "", "config.json is not a JSON object");
  const JsonFields f{j, file, ""};
  GlammConfig c;
  LlamaConfig& l = c.llm;
  f.get_int("hidden_size", l.hidden_size);
  f.get_int("intermediate_size", l.intermediate_size);
  f.get_int("num_hidden_layers", l.num_hidden_layers);
  f.get_int("num_attention_heads", l.num_attention_heads);
  l.num_key_value_heads = l.num_attention_heads;
  f.get_int("num_key_value_heads", l.num_key_value_heads);
  c.vocab_size_given = f.get_int("vocab_size", l.vocab_size);
  f.get_int("max_position_embeddings", l.max_position_embeddings);
  f.get_positive("rms_norm_eps", l.rms_norm_eps);
  f.get_int("mm_hidden_size", c.mm_hidden_size);
  f.get_int("mm_vision_select_layer", c.mm_vision_select_layer, /*positive=*/false);
  f.get_int("num_level_reg_features", c.num_level_reg_features);
  f.get_int("out_dim", c.out_dim);
  f.get_int("bbox_token_idx", c.bbox_token_id);
  f.get_int("bos_token_id", c.bos_token_id, false);
  f.get_int("eos_token_id", c.eos_token_id, false);
  f.get_int("pad_token_id", c.pad_token_id, false);
  if (auto it = j.find("glamm_runner"); it != j.end()) {
    if (!it->is_object()) throw InputError(file, "glamm_runner", "must be an object");
    const JsonFields g{*it, file, "glamm_runner."};
    g.get_int("sam_mask_decoder_num_heads", c.sam_mask_decoder_num_heads);
  }
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null())
    throw InputError(file, "rope_scaling", "RoPE scaling is not supported (transformers 4.29 has none)");
  if (l.hidden_size % l.num_attention_heads != 0)
    throw InputError(file, "num_attention_heads",
                     "hidden_size " + std::to_string(l.hidden_size) + " is not a multiple of " +
                         std::to_string(l.num_attention_heads) + " heads");
  if (l.num_key_value_heads != l.num_attention_heads)
    throw InputError(file, "num_key_value_heads",
                     "grouped-query attention is not supported (must equal num_attention_heads)");
  if (c.mm_vision_select_layer >= 0)
    throw InputError(file, "mm_vision_select_layer", "must be negative (an index from the end of hidden_states)");
  return c;
}

void GlammConfig::check_shapes(const ShapeLookup& shape_of, const std::string& file) {
  LlamaConfig& l = llm;
  require_shape(shape_of, file, "hidden_size", "model.embed_tokens.weight", 1, l.hidden_size);
  if (const auto e = shape_of("model.embed_tokens.weight"); e && e->size() == 2) {
    if (vocab_size_given && (*e)[0] != l.vocab_size)
      throw InputError(file, "vocab_size",
                       "vocab_size = " + std::to_string(l.vocab_size) +
                           " disagrees with the checkpoint: model.embed_tokens.weight is " + shape_str(*e));
    l.vocab_size = (*e)[0];
  }
  require_shape(shape_of, file, "vocab_size", "lm_head.weight", 0, l.vocab_size);
  require_shape(shape_of, file, "hidden_size", "lm_head.weight", 1, l.hidden_size);
  require_shape(shape_of, file, "hidden_size", "model.layers.0.self_attn.q_proj.weight", 0, l.hidden_size);
  require_shape(shape_of, file, "intermediate_size", "model.layers.0.mlp.gate_proj.weight", 0, l.intermediate_size);
  require_shape(shape_of, file, "intermediate_size", "model.layers.0.mlp.down_proj.weight", 1, l.intermediate_size);
  check_layer_count(shape_of, file, "num_hidden_layers", l.num_hidden_layers, "model.layers.",
                    ".input_layernorm.weight");
  if (const auto inv = shape_of("model.layers.0.self_attn.rotary_emb.inv_freq"); inv && !inv->empty() &&
                                                                                  (*inv)[0] * 2 != l.head_dim())
    throw InputError(file, "num_attention_heads",
                     "num_attention_heads = " + std::to_string(l.num_attention_heads) + " gives head_dim " +
                         std::to_string(l.head_dim()) + ", but rotary_emb.inv_freq is " + shape_str(*inv));
  require_shape(shape_of, file, "mm_hidden_size", "model.mm_projector.0.weight", 1, mm_hidden_size);
  require_shape(shape_of, file, "hidden_size", "model.mm_projector.2.weight", 0, l.hidden_size);
  require_shape(shape_of, file, "out_dim", "model.text_hidden_fcs.0.2.weight", 0, out_dim);
}

}  // namespace glamm::model
