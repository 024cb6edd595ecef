#include "metrics/meteor/paraphrase.h"

#include <zlib.h>

#include "common/error.h"
#include "common/io.h"
#include "metrics/meteor/java_text.h"

namespace glamm::meteor {
namespace {

// Decompress a gzip byte string (concatenated members allowed). Throws InputError on corrupt/truncated data.
std::string gunzip(const std::string& data, const std::string& source) {
  if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f || static_cast<unsigned char>(data[1]) != 0x8b)
    throw InputError(source, "", "not a gzip file");
  std::string out;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw InputError(source, "", "zlib initialisation failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char buf[1 << 16];
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows.
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    if (rc == Z_OK) {
      if (zs.avail_in == 0 && zs.avail_out != 0) {
        inflateEnd(&zs);
        throw InputError(source, "", "truncated gzip data (unexpected end of stream)");
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      throw InputError(source, "", "truncated gzip data (unexpected end of stream)");
    }
    std::string msg = zs.msg ? zs.msg : "corrupt data";
    inflateEnd(&zs);
    throw InputError(source, "", "gzip error: " + msg);
  }
  inflateEnd(&zs);
  return out;
}

// Split into lines as Java's BufferedReader.readLine does (\n, \r\n or \r).
std::vector<std::string> java_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t i = 0, n = text.size();
  while (i < n) {
    std::size_t j = i;
    while (j < n && text[j] != '\n' && text[j] != '\r') ++j;
    lines.emplace_back(text, i, j - i);
    if (j < n && text[j] == '\r' && j + 1 < n && text[j + 1] == '\n') ++j;
    i = j + 1;
  }
  return lines;
}

}  // namespace

int ParaphraseTable::map_word(const std::string& w) {
  auto it = vocab_.find(w);
  if (it != vocab_.end()) return it->second;
  int id = static_cast<int>(vocab_.size());
  vocab_.emplace(w, id);
  return id;
}

void ParaphraseTable::add_path(const std::vector<int>& words, int emit) {
  int node = 0;
  for (int w : words) {
    std::uint64_t key = (static_cast<std::uint64_t>(node) << 32) | static_cast<std::uint32_t>(w);
    auto it = edges_.find(key);
    if (it == edges_.end()) {
      int child = static_cast<int>(emits_.size());
      emits_.emplace_back();
      edges_.emplace(key, child);
      node = child;
    } else {
      node = it->second;
    }
  }
  emits_[static_cast<std::size_t>(node)].push_back(emit);
}

ParaphraseTable ParaphraseTable::parse(const std::string& text, const std::string& source) {
  ParaphraseTable t;
  t.emits_.emplace_back();  // root
  std::vector<std::string> lines = java_lines(text);
  if (lines.size() % 3 != 0)
    throw InputError(source, "record " + std::to_string(lines.size() / 3 + 1),
                     "incomplete paraphrase record (expected 3 lines: probability, phrase, paraphrase)");
  for (std::size_t r = 0; r + 2 < lines.size(); r += 3) {
    std::vector<int> ref, par;
    for (const auto& w : java::tokenize(lines[r + 1])) ref.push_back(t.map_word(w));
    for (const auto& w : java::tokenize(lines[r + 2])) par.push_back(t.map_word(w));
    t.add_path(ref, static_cast<int>(t.paraphrases_.size()));
    t.paraphrases_.push_back(std::move(par));
  }
  return t;
}

ParaphraseTable ParaphraseTable::load_gz(const std::string& path) { return load_gz_bytes(io::read_file(path), path); }

ParaphraseTable ParaphraseTable::load_gz_bytes(const std::string& data, const std::string& source) {
  return parse(gunzip(data, source), source);
}

int ParaphraseTable::translate(const std::string& word) const {
  auto it = vocab_.find(word);
  return it == vocab_.end() ? -1 : it->second;
}

void ParaphraseTable::paths(const std::vector<int>& words, std::size_t start,
                            std::vector<std::pair<int, int>>& out) const {
  out.clear();
  int node = 0;
  for (std::size_t i = 0; start + i < words.size(); ++i) {
    int w = words[start + i];
    if (w < 0) break;
    std::uint64_t key = (static_cast<std::uint64_t>(node) << 32) | static_cast<std::uint32_t>(w);
    auto it = edges_.find(key);
    if (it == edges_.end()) break;
    node = it->second;
    for (int e : emits_[static_cast<std::size_t>(node)]) out.emplace_back(static_cast<int>(i + 1), e);
  }
}

}  // namespace glamm::meteor
