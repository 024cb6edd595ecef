// `glamm-eval tokenize`: the PTB tokenization step of pycocoevalcap (CoreNLP 3.4.1 PTBTokenizer -preserveLines
// -lowerCase plus the wrapper's punctuation filter) on captions from stdin or a file.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/io.h"
#include "common/result.h"
#include "eval/command.h"
#include "eval/tasks/caption_schema.h"
#include "metrics/ptb/ptb_tokenizer.h"

namespace glamm::cli {
namespace {

struct TokenizeOptions {
  CommonOptions common;
  bool batch = false;
  bool raw = false;
  std::string input;  ///< "" = stdin
};

std::string read_input(const std::string& path) {
  if (!path.empty()) return io::read_text_file(path);
  return std::string((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
}

// Caption lines: split on '\n' only; a final '\n' does not start another caption.
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

// A JSON array of caption strings.
std::vector<std::string> parse_caption_array(const std::string& text, const std::string& source) {
  nlohmann::json j;
  io::check_json_depth(text, source);
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(source, "", std::string("not valid JSON: ") + e.what());
  } catch (const nlohmann::json::out_of_range& e) {
    throw io::json_number_error(text, source, e);
  }
  if (!j.is_array()) throw InputError(source, "", "--batch expects a JSON array of caption strings");
  std::vector<std::string> caps;
  caps.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) throw InputError(source, "element " + std::to_string(i), "caption is not a string");
    caps.push_back(j[i].get<std::string>());
  }
  return caps;
}

void run_tokenize(const TokenizeOptions& o) {
  const std::string source = o.input.empty() ? "<stdin>" : o.input;
  const std::string text = read_input(o.input);
  std::vector<std::string> caps = o.batch ? parse_caption_array(text, source) : split_lines(text);
  const auto mode = o.common.strict ? ptb::LineBreakMode::kStrict : ptb::LineBreakMode::kReference;
  ptb::BatchResult res;
  try {
    res = ptb::tokenize_batch(caps, mode, resolve_threads(o.common));
  } catch (const InputError& e) {  // name the file and, for line input, the 1-based line
    std::string record = e.record();
    if (!o.batch && record.rfind("caption ", 0) == 0) record = "line " + std::to_string(std::stoull(record.substr(8)) + 1);
    throw InputError(source, record, e.message());
  }
  std::string out;
  for (size_t i = 0; i < caps.size(); ++i) {
    out += o.raw ? res.raw[i] : res.tokenized[i];
    out += '\n';
  }
  std::cout << out << std::flush;
  for (const auto& w : res.warnings) std::cerr << "warning: " << w << "\n";

  if (!o.common.json_path.empty()) {
    Result r;
    r.task = "tokenize";
    r.label = o.common.label;
    size_t tokens = 0;
    nlohmann::json per = nlohmann::json::array();
    for (size_t i = 0; i < caps.size(); ++i) {
      const std::string& t = res.tokenized[i];
      size_t n = t.empty() ? 0 : 1 + static_cast<size_t>(std::count(t.begin(), t.end(), ' '));
      tokens += n;
      per.push_back(tasks::TokenizeSample{i, res.raw[i], t}.to_json());
    }
    r.metrics.emplace_back("captions", static_cast<double>(caps.size()));
    r.metrics.emplace_back("tokens", static_cast<double>(tokens));
    r.signature.set("tokenizer", "CoreNLP-3.4.1-PTBTokenizer(-preserveLines -lowerCase)+pycocoevalcap-filter");
    r.signature.set("line_breaks", o.common.strict ? "strict" : "reference");
    r.warnings = res.warnings;
    r.details["captions_with_line_breaks"] = res.captions_with_line_breaks;
    r.details["per_sample_fields"] = tasks::TokenizeSample::field_names();
    r.per_sample = std::move(per);
    if (!o.input.empty()) r.add_input("captions", o.input);
    write_record(o.common.json_path, std::move(r));
  }
}

void add_tokenize(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* sub = app.add_subcommand(
      "tokenize",
      "PTB-tokenize captions as pycocoevalcap does (CoreNLP 3.4.1 PTBTokenizer -preserveLines -lowerCase, then the "
      "punctuation filter). Input: one caption per line (UTF-8) on stdin or --input; with --batch a JSON array of "
      "caption strings instead (the only way to pass captions containing '\\n', '\\r', U+2028 and the like). "
      "Output: one line per caption. All captions are tokenized as one pycocoevalcap batch, so line-break "
      "characters inside a caption shift later captions onto the wrong line exactly as the reference does (a "
      "warning says so on stderr); --strict treats those characters as spaces instead.");
  sub->add_flag("--batch", opts->batch, "Read a JSON array of caption strings (stdin or --input) instead of lines");
  sub->add_flag("--raw", opts->raw, "Print the tokenizer's lines before the punctuation filter");
  sub->add_option("--input", opts->input, "Read captions from this file instead of stdin");
  add_common_options(sub, opts->common,
                     "Treat line-break characters inside a caption (\\r, U+000B, U+000C, U+2028, U+2029) as spaces "
                     "instead of reproducing pycocoevalcap's line shift");
  sub->callback([opts] { run_tokenize(*opts); });
}

}  // namespace

GLAMM_REGISTER_COMMAND(30, add_tokenize);

}  // namespace glamm::cli
