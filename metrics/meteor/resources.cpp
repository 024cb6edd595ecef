// Loading METEOR's English resources from a folder (the build's share/glamm-eval/meteor or another copy) or a
// meteor-1.5.jar.
#include <zip.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <tuple>

#include "common/error.h"
#include "common/io.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/meteor.h"
#include "metrics/meteor/paraphrase.h"

namespace glamm::meteor {
namespace fs = std::filesystem;
namespace {

// Lines as Java's BufferedReader.readLine gives them (\n, \r\n, \r), views into `text`.
template <class F>
void for_each_line(const std::string& text, F&& f) {
  std::size_t i = 0, n = text.size();
  while (i < n) {
    std::size_t j = i;
    while (j < n && text[j] != '\n' && text[j] != '\r') ++j;
    f(std::string_view(text.data() + i, j - i));
    if (j < n && text[j] == '\r' && j + 1 < n && text[j + 1] == '\n') ++j;
    i = j + 1;
  }
}

bool is_tok_delim(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

template <class F>
void for_each_token(std::string_view line, F&& f) {
  std::size_t i = 0, n = line.size();
  while (i < n) {
    while (i < n && is_tok_delim(line[i])) ++i;
    std::size_t j = i;
    while (j < n && !is_tok_delim(line[j])) ++j;
    if (j > i) f(line.substr(i, j - i));
    i = j;
  }
}

std::size_t count_tokens(std::string_view line) {
  std::size_t n = 0;
  for_each_token(line, [&](std::string_view) { ++n; });
  return n;
}

std::string line_record(std::size_t one_based) { return "line " + std::to_string(one_based); }

// Checks every resource file shares (docs/input-rules.md, "METEOR resource files"): not empty, and ending with a
// line break as METEOR's own files do (a file cut mid-line is truncated). `lines`: its lines (for_each_line).
void check_whole_file(const std::string& text, const std::vector<std::string_view>& lines, const std::string& source,
                      const char* what) {
  if (text.find_first_not_of(" \t\r\n\f") == std::string::npos)
    throw InputError(source, "", std::string("empty METEOR resource file (") + what + " expected)");
  if (text.back() != '\n' && text.back() != '\r')
    throw InputError(source, line_record(lines.size()),
                     "truncated METEOR resource file: the last line has no line break (METEOR 1.5's files end with "
                     "one)");
}

std::vector<std::string_view> split_lines(const std::string& text) {
  std::vector<std::string_view> lines;
  for_each_line(text, [&](std::string_view l) { lines.push_back(l); });
  return lines;
}

// english.synsets: pairs of lines (word, space-separated integer synset ids); a later entry replaces an earlier one.
void parse_synsets(const std::string& text, const std::string& source, Resources& r) {
  std::vector<std::string_view> lines;
  lines.reserve(600000);
  for_each_line(text, [&](std::string_view l) { lines.push_back(l); });
  check_whole_file(text, lines, source, "pairs of lines: a word, then its integer synset ids");
  if (lines.size() % 2 != 0)
    throw InputError(source, "line " + std::to_string(lines.size()), "truncated synonym file (word without synset line)");
  r.synsets.reserve(lines.size() / 2 + 16);
  std::vector<int> ids;
  for (std::size_t k = 0; k + 1 < lines.size(); k += 2) {
    if (count_tokens(lines[k]) != 1)
      throw InputError(source, line_record(k + 1),
                       "a word line must hold one word (the file is pairs of lines: word, synset ids)");
    if (count_tokens(lines[k + 1]) == 0)
      throw InputError(source, line_record(k + 2), "a synset line must hold at least one integer synset id");
    ids.clear();
    for_each_token(lines[k + 1], [&](std::string_view t) {
      long long v = 0;
      bool neg = false;
      std::size_t p = 0;
      if (!t.empty() && (t[0] == '-' || t[0] == '+')) neg = t[0] == '-', p = 1;
      if (p == t.size()) throw InputError(source, "line " + std::to_string(k + 2), "bad synset id '" + std::string(t) + "'");
      for (; p < t.size(); ++p) {
        if (t[p] < '0' || t[p] > '9' || v > 2147483648LL)
          throw InputError(source, "line " + std::to_string(k + 2), "bad synset id '" + std::string(t) + "'");
        v = v * 10 + (t[p] - '0');
      }
      ids.push_back(static_cast<int>(neg ? -v : v));
    });
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    r.synsets.put(lines[k], ids);
  }
}

// english.exceptions: pairs of lines (base form, inflected forms); each form maps to its list of bases.
void parse_exceptions(const std::string& text, const std::string& source, Resources& r) {
  const std::vector<std::string_view> lines = split_lines(text);
  check_whole_file(text, lines, source, "pairs of lines: a base form, then its inflected forms");
  if (lines.size() % 2 != 0)
    throw InputError(source, "line " + std::to_string(lines.size()), "truncated exceptions file (base without forms line)");
  for (std::size_t k = 0; k + 1 < lines.size(); k += 2) {
    if (count_tokens(lines[k]) != 1)
      throw InputError(source, line_record(k + 1),
                       "a base-form line must hold one word (the file is pairs of lines: base form, inflected forms)");
    if (count_tokens(lines[k + 1]) == 0)
      throw InputError(source, line_record(k + 2), "an inflected-forms line must hold at least one form");
    std::string base(lines[k]);
    for_each_token(lines[k + 1], [&](std::string_view form) { r.exceptions[std::string(form)].push_back(base); });
  }
}

void parse_function_words(const std::string& text, const std::string& source, Resources& r) {
  check_whole_file(text, split_lines(text), source, "one function word per line");
  for_each_line(text, [&](std::string_view l) { r.function_words.emplace(l); });
}

// english.prefixes: first token of a line; '#' lines are comments; "#NUMERIC_ONLY#" as second token marks
// prefixes that are non-breaking only before a number (Normalizer.nbpList).
void parse_prefixes(const std::string& text, const std::string& source, Resources& r) {
  check_whole_file(text, split_lines(text), source, "one non-breaking prefix per line");
  std::map<std::string, bool> numeric;  // last entry wins
  for_each_line(text, [&](std::string_view l) {
    std::vector<std::string_view> toks;
    for_each_token(l, [&](std::string_view t) { toks.push_back(t); });
    if (toks.empty() || toks[0][0] == '#') return;
    numeric[std::string(toks[0])] = toks.size() > 1 && toks[1] == "#NUMERIC_ONLY#";
  });
  if (numeric.empty())
    throw InputError(source, "", "no prefix in this METEOR resource file (only comments or blank lines)");
  for (auto& [k, num] : numeric) (num ? r.numeric_only_prefixes : r.nonbreaking_prefixes).insert(k);
}

struct Jar {
  zip_t* z = nullptr;
  std::string path;
  explicit Jar(const std::string& p) : path(p) {
    int err = 0;
    z = zip_open(p.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      std::string msg = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      throw InputError(p, "", "cannot open as a jar/zip archive (" + msg + ")");
    }
  }
  ~Jar() {
    if (z) zip_discard(z);
  }
  Jar(const Jar&) = delete;
  Jar& operator=(const Jar&) = delete;

  /// Entry `name` or "resources/" + name; "" in *found when absent.
  std::string read(const std::string& name, std::string* found) {
    for (const std::string& cand : {name, "resources/" + name}) {
      zip_int64_t idx = zip_name_locate(z, cand.c_str(), 0);
      if (idx < 0) continue;
      zip_stat_t st;
      zip_stat_init(&st);
      if (zip_stat_index(z, static_cast<zip_uint64_t>(idx), 0, &st) != 0)
        throw InputError(path, cand, "cannot stat jar entry");
      zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(idx), 0);
      if (!f) throw InputError(path, cand, std::string("cannot open jar entry: ") + zip_strerror(z));
      std::string data;
      data.resize(static_cast<std::size_t>(st.size));
      zip_int64_t got = data.empty() ? 0 : zip_fread(f, data.data(), st.size);
      std::string ferr = zip_file_strerror(f);
      zip_fclose(f);
      if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
        throw InputError(path, cand, "truncated or corrupt jar entry (" + ferr + ")");
      *found = cand;
      return data;
    }
    found->clear();
    return {};
  }
};

bool looks_like_zip(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  std::string head;
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    char b[4] = {0, 0, 0, 0};
    std::size_t n = std::fread(b, 1, 4, f);
    std::fclose(f);
    head.assign(b, n);
  }
  return head.size() >= 2 && head[0] == 'P' && head[1] == 'K';
}

struct Hashes {
  std::string checksum;                     ///< Resources::checksum
  std::vector<std::string> modified_files;  ///< Resources::modified_files
};

/// `parts`: (checksum label, file name, bytes or nullptr when absent) in checksum order. The checksum hashes
/// "label:sha256(bytes)\n" lines; a named file whose SHA-256 is not METEOR 1.5's is listed as modified.
Hashes hashes_of(const std::vector<std::tuple<std::string, std::string, const std::string*>>& parts) {
  Hashes h;
  std::string acc;
  for (auto& [label, name, data] : parts) {
    const std::string sha = data ? io::sha256_hex(*data) : std::string("-");
    acc += label + ":" + sha + "\n";
    const auto it = meteor15_sha256().find(name);
    if (it != meteor15_sha256().end() && it->second != sha) h.modified_files.push_back(name);
  }
  h.checksum = io::sha256_hex(acc);
  return h;
}

// The paraphrase table from its gzip bytes (through the binary cache), with its SHA-256 and whether it is
// pycocoevalcap's official copy (git blob id).
void load_paraphrase(const std::string& bytes, Resources& r) {
  auto official = std::async(std::launch::async, [&] { return git_blob_id(bytes) == kOfficialParaphraseBlobId; });
  r.paraphrase_sha256 = io::sha256_hex(bytes);
  r.paraphrase = std::make_shared<ParaphraseTable>(ParaphraseTable::load_gz_cached(
      bytes, r.paraphrase_sha256, r.paraphrase_source, ParaphraseTable::default_cache_dir()));
  r.paraphrase_official = official.get();
}

}  // namespace

Resources Resources::load(const std::string& dir_or_jar, const std::string& paraphrase_gz) {
  Resources r;
  std::string syn, exc, words, prefixes, para_text_src;
  std::error_code ec;
  if (dir_or_jar.empty()) throw InputError("METEOR resources: no location given");
  if (fs::is_directory(dir_or_jar, ec)) {
    fs::path d(dir_or_jar);
    auto need = [&](const char* name) {
      fs::path p = d / name;
      if (!fs::exists(p, ec))
        throw InputError(p.string(), "", "METEOR resource file missing (expected english.synsets, english.exceptions, "
                                         "english.words, english.prefixes in this folder)");
      return p.string();
    };
    r.synsets_source = need("english.synsets");
    r.exceptions_source = need("english.exceptions");
    r.function_words_source = need("english.words");
    r.prefixes_source = need("english.prefixes");
    syn = io::read_file(r.synsets_source);
    exc = io::read_file(r.exceptions_source);
    words = io::read_file(r.function_words_source);
    prefixes = io::read_file(r.prefixes_source);
    if (paraphrase_gz.empty() && fs::exists(d / "paraphrase-en.gz", ec)) r.paraphrase_source = (d / "paraphrase-en.gz").string();
  } else if (looks_like_zip(dir_or_jar)) {
    Jar jar(dir_or_jar);
    std::string found;
    auto need = [&](const std::string& name, std::string& src) {
      std::string data = jar.read(name, &found);
      if (found.empty()) throw InputError(dir_or_jar, name, "METEOR resource missing from the jar");
      src = "jar:" + dir_or_jar + "!" + found;
      return data;
    };
    syn = need("synonym/english.synsets", r.synsets_source);
    exc = need("synonym/english.exceptions", r.exceptions_source);
    words = need("function/english.words", r.function_words_source);
    prefixes = need("nonbreaking/english.prefixes", r.prefixes_source);
    // METEOR looks for its paraphrase table next to the jar: <jar dir>/data/paraphrase-en.gz.
    fs::path next = fs::path(dir_or_jar).parent_path() / "data" / "paraphrase-en.gz";
    if (paraphrase_gz.empty() && fs::exists(next, ec)) r.paraphrase_source = next.string();
  } else if (fs::exists(dir_or_jar, ec)) {
    throw InputError(dir_or_jar, "", "not a METEOR resource folder or a meteor-1.5.jar (zip) file");
  } else {
    throw InputError(dir_or_jar, "", "METEOR resources not found");
  }
  if (!paraphrase_gz.empty() && paraphrase_gz != "-" && paraphrase_gz != "off") r.paraphrase_source = paraphrase_gz;

  std::string para_bytes;
  if (!r.paraphrase_source.empty()) para_bytes = io::read_file(r.paraphrase_source);
  const bool with_para = !r.paraphrase_source.empty();
  // The checksum (SHA-256 over 3.7 MB) runs on a second thread while the tables are parsed; the future's
  // destructor waits for it even when parsing throws.
  auto checksum = std::async(std::launch::async, [&] {
    return hashes_of({{"synsets", "english.synsets", &syn},
                      {"exceptions", "english.exceptions", &exc},
                      {"words", "english.words", &words},
                      {"prefixes", "english.prefixes", &prefixes},
                      {"paraphrase", "", with_para ? &para_bytes : nullptr}});
  });
  parse_synsets(syn, r.synsets_source, r);
  parse_exceptions(exc, r.exceptions_source, r);
  parse_function_words(words, r.function_words_source, r);
  parse_prefixes(prefixes, r.prefixes_source, r);
  if (with_para) load_paraphrase(para_bytes, r);
  Hashes h = checksum.get();
  r.checksum = std::move(h.checksum);
  r.modified_files = std::move(h.modified_files);
  return r;
}

const std::map<std::string, std::string>& meteor15_sha256() {
  static const std::map<std::string, std::string> m = {
      {"english.synsets", "20b7cf6ae1cba2395d714d8c2ec2992e88c6d1c75c7c30aa480c6a2a9bb8fef9"},
      {"english.exceptions", "5feb8fcb5b349d035df1a448149c2ccc860bf32e4b9eea8c8e4f113e90a5a962"},
      {"english.words", "2ae0d5b8c29e2993a0f442b065b946d1a17fbfe8538e66bf5931c4a248cf4c3a"},
      {"english.prefixes", "bd909f364224748976f9b8b7cdeb4f9be3bf7c8e66a10f1ed268b12d904ab876"},
  };
  return m;
}

std::string Resources::variant() const {
  if (modified_files.empty()) return "official";
  std::string list;
  for (const auto& f : modified_files) list += (list.empty() ? "" : ",") + f;
  return "modified(" + list + ")";
}

std::string resources_variant_warning(const Resources& r) {
  if (r.modified_files.empty()) return "";
  std::string list;
  for (const auto& f : r.modified_files) list += (list.empty() ? "" : ", ") + f;
  return "METEOR resources differ from METEOR 1.5's: " + list + " (SHA-256; docs/input-rules.md, METEOR resource "
         "files); scores may differ from pycocoevalcap's";
}

std::string find_resources(const std::string& cli_value) {
  DiscoveryOptions opt;
  opt.resources_cli = cli_value;
  opt.paraphrase_cli = "-";  // the resource location only
  return discover(opt).jar.path;
}

}  // namespace glamm::meteor
