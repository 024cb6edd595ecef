// BertConfig from a Hugging Face config.json (torch-free). See bert.h.
#include <string>

#include "common/error.h"
#include "common/io.h"
#include "model/bert.h"

namespace glamm::model {

BertConfig BertConfig::from_json_file(const std::filesystem::path& config_json) {
  const nlohmann::json j = io::load_json(config_json);
  const std::string file = config_json.string();
  if (!j.is_object()) throw InputError(file, "", "config.json is not a JSON object");
  BertConfig c;
  auto get_int = [&](const char* key, int64_t& v) {
    auto it = j.find(key);
    if (it == j.end()) return;
    if (!it->is_number_integer() || it->get<int64_t>() <= 0) throw InputError(file, key, "must be a positive integer");
    v = it->get<int64_t>();
  };
  get_int("vocab_size", c.vocab_size);
  get_int("hidden_size", c.hidden_size);
  get_int("num_hidden_layers", c.num_hidden_layers);
  get_int("num_attention_heads", c.num_attention_heads);
  get_int("intermediate_size", c.intermediate_size);
  get_int("max_position_embeddings", c.max_position_embeddings);
  get_int("type_vocab_size", c.type_vocab_size);
  if (auto it = j.find("layer_norm_eps"); it != j.end()) {
    if (!it->is_number() || it->get<double>() <= 0) throw InputError(file, "layer_norm_eps", "must be a positive number");
    c.layer_norm_eps = it->get<double>();
  }
  if (auto it = j.find("hidden_act"); it != j.end()) {
    if (!it->is_string()) throw InputError(file, "hidden_act", "must be a string");
    c.hidden_act = it->get<std::string>();
  }
  if (c.hidden_act != "gelu" && c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh")
    throw InputError(file, "hidden_act", "unsupported activation '" + c.hidden_act + "' (gelu, gelu_new, gelu_pytorch_tanh)");
  if (auto it = j.find("position_embedding_type"); it != j.end() && !(it->is_string() && *it == "absolute"))
    throw InputError(file, "position_embedding_type", "only \"absolute\" position embeddings are supported");
  if (c.hidden_size % c.num_attention_heads != 0)
    throw InputError(file, "num_attention_heads",
                     "hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of " +
                         std::to_string(c.num_attention_heads) + " heads");
  return c;
}

}  // namespace glamm::model
