#include "metrics/meteor/paraphrase.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "common/error.h"
#include "common/io.h"
#include "common/result.h"

namespace glamm::meteor {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::uint64_t kBombFloor = 64ull << 20;  // inflated bytes before the ratio check applies
constexpr std::uint64_t kBombRatio = 200;
constexpr std::uint64_t kEmptyEdge = ~std::uint64_t{0};
constexpr std::uint64_t kEmptySlot = ~std::uint64_t{0};  // word slot: (upper 32 bits of the hash) << 32 | word id

std::uint64_t slot_value(std::uint64_t hash, std::size_t id) { return (hash & 0xFFFFFFFF00000000ull) | id; }

std::uint64_t hash_word(std::string_view w) {  // FNV-1a, 64 bit (fixed: the cache stores the slot layout)
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : w) h = (h ^ c) * 1099511628211ull;
  return h ^ (h >> 29);
}

std::uint64_t hash_edge(std::uint64_t k) {  // splitmix64 finaliser
  k ^= k >> 30;
  k *= 0xbf58476d1ce4e5b9ull;
  k ^= k >> 27;
  k *= 0x94d049bb133111ebull;
  return k ^ (k >> 31);
}

bool is_tok_delim(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// The probability line is a number (strtod syntax after trimming characters ≤ ' ', or Java's d/f suffix; not
// hexadecimal). METEOR reads and ignores this line; checking it catches a file that is not a table, or records
// shifted by a missing line, at the record where it happens.
bool is_probability(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > 64) return false;
  {  // fast path: [+-]digits[.digits][(e|E)[+-]digits][dDfF] with at least one mantissa digit
    std::size_t i = 0, n = s.size(), digits = 0;
    auto is_digit = [&](std::size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
    if (s[i] == '+' || s[i] == '-') ++i;
    while (is_digit(i)) ++i, ++digits;
    if (i < n && s[i] == '.') {
      ++i;
      while (is_digit(i)) ++i, ++digits;
    }
    bool ok = digits > 0;
    if (ok && i < n && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
      ok = is_digit(i);
      while (is_digit(i)) ++i;
    }
    if (ok && i + 1 == n && (s[i] == 'd' || s[i] == 'D' || s[i] == 'f' || s[i] == 'F')) ++i;
    if (ok && i == n) return true;
  }
  char buf[80];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (s.size() > 1 && (buf[1] == 'x' || buf[1] == 'X' || buf[2] == 'x' || buf[2] == 'X')) return false;
  char* end = nullptr;
  std::strtod(buf, &end);  // the value itself is never used (METEOR ignores it too)
  if (end == buf) return false;
  if (end == buf + s.size()) return true;
  // Java's optional type suffix (d/D/f/F).
  return end + 1 == buf + s.size() && (*end == 'd' || *end == 'D' || *end == 'f' || *end == 'F');
}

}  // namespace

// Word id of `w` (hash `hash`), probing from `slot`; -1 when absent, with `slot` left on the empty slot where it
// would go. The slot's upper half (hash bits) is compared before the word itself.
int find_word(const ParaphraseTable& t, std::string_view w, std::uint64_t hash, std::size_t& slot) {
  const std::size_t mask = t.word_slots_.size() - 1;
  const std::uint64_t tag = hash & 0xFFFFFFFF00000000ull;
  while (true) {
    const std::uint64_t v = t.word_slots_[slot];
    if (v == kEmptySlot) return -1;
    if ((v & 0xFFFFFFFF00000000ull) == tag) {
      const std::size_t i = static_cast<std::size_t>(v & 0xFFFFFFFFu);
      if (t.word_off_[i + 1] - t.word_off_[i] == w.size() &&
          std::memcmp(t.words_.data() + t.word_off_[i], w.data(), w.size()) == 0)
        return static_cast<int>(i);
    }
    slot = (slot + 1) & mask;
  }
}

// Incremental parser: lines arrive in pieces as the gzip stream is inflated.
struct ParaphraseTable::Builder {
  ParaphraseTable& t;
  const std::string& source;
  std::string partial;
  bool skip_lf = false;  // the previous piece ended in '\r': a leading '\n' belongs to it
  std::uint64_t lines = 0;
  std::vector<int> ref;
  std::vector<std::pair<std::uint32_t, std::int32_t>> node_emits;  // (node, paraphrase index)
  std::uint32_t nodes = 1;                                          // root = 0
  std::string last_ref_line;  // phrase line of the previous record
  std::uint32_t last_node = 0;  // its trie node
  bool same_ref = false;

  Builder(ParaphraseTable& table, const std::string& src) : t(table), source(src) {
    t.word_slots_.assign(1024, kEmptySlot);
    t.edge_keys_.assign(1024, kEmptyEdge);
    t.edge_vals_.assign(1024, -1);
  }

  std::string record() const { return "record " + std::to_string(lines / 3 + 1); }

  void grow_words() {
    std::vector<std::uint64_t> slots(t.word_slots_.size() * 2, kEmptySlot);
    const std::size_t mask = slots.size() - 1;
    for (std::size_t id = 0; id + 1 < t.word_off_.size(); ++id) {
      std::string_view w(t.words_.data() + t.word_off_[id], t.word_off_[id + 1] - t.word_off_[id]);
      const std::uint64_t h = hash_word(w);
      std::size_t k = h & mask;
      while (slots[k] != kEmptySlot) k = (k + 1) & mask;
      slots[k] = slot_value(h, id);
    }
    t.word_slots_.swap(slots);
  }

  int word_id(std::string_view w) {
    const std::size_t mask = t.word_slots_.size() - 1;
    const std::uint64_t h = hash_word(w);
    std::size_t k = h & mask;
    const int found = find_word(t, w, h, k);
    if (found >= 0) return found;
    const std::size_t id = t.word_off_.size() - 1;
    if (t.words_.size() + w.size() > 0xFFFFFFF0u || id >= 0x7FFFFFF0u)
      throw InputError(source, record(), "paraphrase table too large (vocabulary over 4 GiB)");
    t.word_slots_[k] = slot_value(h, id);
    t.words_.append(w.data(), w.size());
    t.word_off_.push_back(static_cast<std::uint32_t>(t.words_.size()));
    if (2 * (id + 1) > t.word_slots_.size()) grow_words();
    return static_cast<int>(id);
  }

  void grow_edges() {
    std::vector<std::uint64_t> keys(t.edge_keys_.size() * 2, kEmptyEdge);
    std::vector<std::int32_t> vals(keys.size(), -1);
    const std::size_t mask = keys.size() - 1;
    for (std::size_t i = 0; i < t.edge_keys_.size(); ++i) {
      if (t.edge_keys_[i] == kEmptyEdge) continue;
      std::size_t k = hash_edge(t.edge_keys_[i]) & mask;
      while (keys[k] != kEmptyEdge) k = (k + 1) & mask;
      keys[k] = t.edge_keys_[i];
      vals[k] = t.edge_vals_[i];
    }
    t.edge_keys_.swap(keys);
    t.edge_vals_.swap(vals);
  }

  // The trie node of phrase `ref` (created as needed); `emit` is added to its emits.
  void add_path(int emit) {
    std::uint32_t node = 0;
    for (int w : ref) {
      const std::uint64_t key = (static_cast<std::uint64_t>(node) << 32) | static_cast<std::uint32_t>(w);
      const std::size_t mask = t.edge_keys_.size() - 1;
      std::size_t k = hash_edge(key) & mask;
      while (t.edge_keys_[k] != kEmptyEdge && t.edge_keys_[k] != key) k = (k + 1) & mask;
      if (t.edge_keys_[k] == key) {
        node = static_cast<std::uint32_t>(t.edge_vals_[k]);
        continue;
      }
      if (nodes >= 0x7FFFFFF0u) throw InputError(source, record(), "paraphrase table too large (trie over 2^31 nodes)");
      t.edge_keys_[k] = key;
      t.edge_vals_[k] = static_cast<std::int32_t>(nodes);
      node = nodes++;
      if (2 * static_cast<std::size_t>(nodes) > t.edge_keys_.size()) grow_edges();
    }
    node_emits.emplace_back(node, emit);
    last_node = node;
  }

  void line(std::string_view l) {
    switch (lines % 3) {
      case 0:
        if (!is_probability(l))
          throw InputError(source, record(),
                           "not a METEOR paraphrase table: the probability line is '" +
                               std::string(l.substr(0, 40)) + (l.size() > 40 ? "…" : "") + "', not a number");
        break;
      case 1:
        // Tables are grouped by phrase: a phrase line equal to the previous one ends at the same trie node.
        same_ref = lines > 3 && l == last_ref_line;
        if (!same_ref) {
          last_ref_line.assign(l.data(), l.size());
          ref.clear();
          for_each_token(l, [&](std::string_view w) { ref.push_back(word_id(w)); });
        }
        break;
      default: {
        for_each_token(l, [&](std::string_view w) { t.para_words_.push_back(word_id(w)); });
        if (t.para_words_.size() > 0xFFFFFFF0u)
          throw InputError(source, record(), "paraphrase table too large (over 2^32 paraphrase words)");
        const int emit = static_cast<int>(t.para_off_.size() - 1);
        t.para_off_.push_back(static_cast<std::uint32_t>(t.para_words_.size()));
        if (same_ref) node_emits.emplace_back(last_node, emit);
        else add_path(emit);
      }
    }
    ++lines;
  }

  template <class F>
  static void for_each_token(std::string_view l, F&& f) {
    std::size_t i = 0, n = l.size();
    while (i < n) {
      while (i < n && is_tok_delim(l[i])) ++i;
      std::size_t j = i;
      while (j < n && !is_tok_delim(l[j])) ++j;
      if (j > i) f(l.substr(i, j - i));
      i = j;
    }
  }

  void too_long() const {
    throw InputError(source, record(), "line longer than 64 KiB: not a METEOR paraphrase table");
  }

  // Lines as Java's BufferedReader.readLine gives them (\n, \r\n, \r).
  void feed(const char* p, std::size_t n) {
    std::size_t i = 0;
    if (skip_lf && n > 0) {
      if (p[0] == '\n') i = 1;
      skip_lf = false;
    }
    while (i < n) {
      std::size_t j = i;
      while (j < n && p[j] != '\n' && p[j] != '\r') ++j;
      if (j == n) {
        partial.append(p + i, n - i);
        if (partial.size() > kMaxLine) too_long();
        return;
      }
      if (partial.empty()) {
        if (j - i > kMaxLine) too_long();
        line(std::string_view(p + i, j - i));
      } else {
        partial.append(p + i, j - i);
        if (partial.size() > kMaxLine) too_long();
        line(partial);
        partial.clear();
      }
      if (p[j] == '\r') {
        if (j + 1 < n) {
          if (p[j + 1] == '\n') ++j;
        } else {
          skip_lf = true;
        }
      }
      i = j + 1;
    }
  }

  void finish() {
    if (!partial.empty()) {
      line(partial);
      partial.clear();
    }
    if (lines % 3 != 0)
      throw InputError(source, record(),
                       "incomplete paraphrase record (expected 3 lines: probability, phrase, paraphrase)");
    // Emits per node in CSR form; a stable counting sort keeps file order within a node.
    t.emit_off_.assign(static_cast<std::size_t>(nodes) + 1, 0);
    for (const auto& ne : node_emits) ++t.emit_off_[ne.first + 1];
    for (std::size_t k = 1; k < t.emit_off_.size(); ++k) t.emit_off_[k] += t.emit_off_[k - 1];
    t.emit_ids_.assign(node_emits.size(), 0);
    std::vector<std::uint32_t> fill(t.emit_off_.begin(), t.emit_off_.end() - 1);
    for (const auto& ne : node_emits) t.emit_ids_[fill[ne.first]++] = ne.second;
  }
};

ParaphraseTable::ParaphraseTable() : word_off_{0}, emit_off_{0, 0}, para_off_{0} {
  word_slots_.assign(1, kEmptySlot);
  edge_keys_.assign(1, kEmptyEdge);
  edge_vals_.assign(1, -1);
}

ParaphraseTable ParaphraseTable::parse(const std::string& text, const std::string& source) {
  ParaphraseTable t;
  Builder b(t, source);
  b.feed(text.data(), text.size());
  b.finish();
  return t;
}

ParaphraseTable ParaphraseTable::load_gz(const std::string& path) { return load_gz_bytes(io::read_file(path), path); }

namespace {

struct Stopped {};  // the parser failed: the inflating thread stops

// Inflate `data` (gzip, several members allowed), handing each piece of output to sink(const char*, size_t).
// Throws InputError on corrupt or truncated data and on a gzip bomb (kBombRatio past kBombFloor).
template <class Sink>
void inflate_stream(const std::string& data, const std::string& source, Sink&& sink) {
  if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f || static_cast<unsigned char>(data[1]) != 0x8b)
    throw InputError(source, "", "not a gzip file");
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw InputError(source, "", "zlib initialisation failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  const auto* in = reinterpret_cast<const Bytef*>(data.data());
  std::size_t in_pos = 0;
  std::uint64_t out_total = 0;
  std::vector<char> buf(1 << 18);
  while (true) {
    if (zs.avail_in == 0 && in_pos < data.size()) {
      const std::size_t chunk = std::min<std::size_t>(data.size() - in_pos, 1u << 30);
      zs.next_in = const_cast<Bytef*>(in + in_pos);
      zs.avail_in = static_cast<uInt>(chunk);
      in_pos += chunk;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t got = buf.size() - zs.avail_out;
    out_total += got;
    const std::uint64_t consumed = in_pos - zs.avail_in;
    if (out_total > kBombFloor && out_total > kBombRatio * consumed)
      throw InputError(source, "",
                       "gzip data inflates more than " + std::to_string(kBombRatio) +
                           "-fold: refusing it as a gzip bomb, not a paraphrase table");
    sink(buf.data(), got);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && in_pos == data.size()) return;
      // Another gzip member follows.
      if (inflateReset(&zs) != Z_OK) return;
      continue;
    }
    if (rc == Z_OK) {
      if (zs.avail_in == 0 && in_pos == data.size() && zs.avail_out != 0)
        throw InputError(source, "", "truncated gzip data (unexpected end of stream)");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos == data.size())
      throw InputError(source, "", "truncated gzip data (unexpected end of stream)");
    throw InputError(source, "", std::string("gzip error: ") + (zs.msg ? zs.msg : "corrupt data"));
  }
}

// Inflated pieces handed from the inflating thread to the parsing one (at most kMaxQueued chunks in flight).
struct ChunkQueue {
  static constexpr std::size_t kChunk = 1 << 20, kMaxQueued = 4;
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::string> q;
  bool done = false, stop = false;
  std::exception_ptr error;
};

}  // namespace

ParaphraseTable ParaphraseTable::load_gz_bytes(const std::string& data, const std::string& source) {
  ParaphraseTable t;
  Builder b(t, source);
  if (data.size() < (4u << 20)) {  // small: one thread
    inflate_stream(data, source, [&](const char* p, std::size_t n) { b.feed(p, n); });
    b.finish();
    return t;
  }
  // Large: inflate on a second thread while this one parses; either side's error stops both.
  ChunkQueue cq;
  std::thread inflater([&] {
    std::string chunk;
    chunk.reserve(ChunkQueue::kChunk + (1 << 18));
    auto push = [&] {
      std::unique_lock<std::mutex> lk(cq.m);
      cq.cv.wait(lk, [&] { return cq.q.size() < ChunkQueue::kMaxQueued || cq.stop; });
      if (cq.stop) throw Stopped{};
      cq.q.push_back(std::move(chunk));
      cq.cv.notify_all();
      chunk = std::string();
      chunk.reserve(ChunkQueue::kChunk + (1 << 18));
    };
    try {
      inflate_stream(data, source, [&](const char* p, std::size_t n) {
        chunk.append(p, n);
        if (chunk.size() >= ChunkQueue::kChunk) push();
      });
      if (!chunk.empty()) push();
    } catch (const Stopped&) {
    } catch (...) {
      std::lock_guard<std::mutex> lk(cq.m);
      cq.error = std::current_exception();
    }
    std::lock_guard<std::mutex> lk(cq.m);
    cq.done = true;
    cq.cv.notify_all();
  });
  try {
    while (true) {
      std::string chunk;
      {
        std::unique_lock<std::mutex> lk(cq.m);
        cq.cv.wait(lk, [&] { return !cq.q.empty() || cq.done; });
        if (cq.q.empty()) {
          if (cq.error) std::rethrow_exception(cq.error);
          break;
        }
        chunk = std::move(cq.q.front());
        cq.q.pop_front();
        cq.cv.notify_all();
      }
      b.feed(chunk.data(), chunk.size());
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lk(cq.m);
      cq.stop = true;
      cq.cv.notify_all();
    }
    inflater.join();
    throw;
  }
  inflater.join();
  b.finish();
  return t;
}

int ParaphraseTable::translate(std::string_view word) const {
  const std::uint64_t h = hash_word(word);
  std::size_t k = h & (word_slots_.size() - 1);
  return find_word(*this, word, h, k);
}

void ParaphraseTable::paths(const std::vector<int>& words, std::size_t start,
                            std::vector<std::pair<int, int>>& out) const {
  out.clear();
  std::uint32_t node = 0;
  const std::size_t mask = edge_keys_.size() - 1;
  for (std::size_t i = 0; start + i < words.size(); ++i) {
    const int w = words[start + i];
    if (w < 0) break;
    const std::uint64_t key = (static_cast<std::uint64_t>(node) << 32) | static_cast<std::uint32_t>(w);
    std::size_t k = hash_edge(key) & mask;
    while (edge_keys_[k] != kEmptyEdge && edge_keys_[k] != key) k = (k + 1) & mask;
    if (edge_keys_[k] != key) break;
    node = static_cast<std::uint32_t>(edge_vals_[k]);
    for (std::uint32_t e = emit_off_[node]; e < emit_off_[node + 1]; ++e)
      out.emplace_back(static_cast<int>(i + 1), emit_ids_[e]);
  }
}

bool ParaphraseTable::operator==(const ParaphraseTable& o) const {
  return words_ == o.words_ && word_off_ == o.word_off_ && word_slots_ == o.word_slots_ &&
         edge_keys_ == o.edge_keys_ && edge_vals_ == o.edge_vals_ && emit_off_ == o.emit_off_ &&
         emit_ids_ == o.emit_ids_ && para_off_ == o.para_off_ && para_words_ == o.para_words_;
}

// ------------------------------------------------------------------------------------------------ Binary cache
// Layout (little-endian host order; the cache is per machine):
//   "GLMPARA1"  u32 format  u32 tool-version length L  u64 counts[9]  char sha256[64]  tool version (L bytes)
//   words_ (bytes) word_off_ word_slots_ edge_keys_ edge_vals_ emit_off_ emit_ids_ para_off_ para_words_
//   u32 CRC-32 of everything before it, "END!"
namespace {

constexpr char kMagic[8] = {'G', 'L', 'M', 'P', 'A', 'R', 'A', '1'};
constexpr std::uint32_t kFormat = 2;
constexpr std::size_t kHeader = 8 + 4 + 4 + 9 * 8 + 64;

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <class V>
void put_array(std::string& out, const V& v) {
  if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
}

struct File {
  std::FILE* f;
  explicit File(const std::string& p) : f(std::fopen(p.c_str(), "rb")) {}
  ~File() {
    if (f) std::fclose(f);
  }
};

template <class V>
bool read_array(std::FILE* f, V& v, std::uint64_t count, uLong& crc) {
  v.resize(static_cast<std::size_t>(count));
  const std::size_t bytes = static_cast<std::size_t>(count) * sizeof(v[0]);
  if (bytes == 0) return true;
  if (std::fread(&v[0], 1, bytes, f) != bytes) return false;
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(&v[0]), bytes);
  return true;
}

template <class V>
bool monotonic(const V& off, std::uint64_t last) {
  if (off.empty() || off.front() != 0 || off.back() != last) return false;
  for (std::size_t i = 1; i < off.size(); ++i)
    if (off[i] < off[i - 1]) return false;
  return true;
}

bool is_pow2(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

std::string ParaphraseTable::serialize(const std::string& sha256_hex) const {
  const std::string version = tool_version();
  std::string out;
  out.append(kMagic, 8);
  put(out, kFormat);
  put(out, static_cast<std::uint32_t>(version.size()));
  for (std::uint64_t c : {words_.size(), word_off_.size(), word_slots_.size(), edge_keys_.size(), edge_vals_.size(),
                          emit_off_.size(), emit_ids_.size(), para_off_.size(), para_words_.size()})
    put(out, c);
  std::string key = sha256_hex;
  key.resize(64, ' ');
  out += key;
  out += version;
  out += words_;
  put_array(out, word_off_);
  put_array(out, word_slots_);
  put_array(out, edge_keys_);
  put_array(out, edge_vals_);
  put_array(out, emit_off_);
  put_array(out, emit_ids_);
  put_array(out, para_off_);
  put_array(out, para_words_);
  const auto crc = static_cast<std::uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(out.data()), out.size()));
  put(out, crc);
  out.append("END!", 4);
  return out;
}

bool ParaphraseTable::read_cache(const std::string& path, const std::string& sha256_hex, ParaphraseTable& out) {
  File file(path);
  if (!file.f) return false;
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec || size < kHeader + 8) return false;
  char head[kHeader];
  if (std::fread(head, 1, kHeader, file.f) != kHeader || std::memcmp(head, kMagic, 8) != 0) return false;
  std::uint32_t format = 0, vlen = 0;
  std::uint64_t c[9];
  std::memcpy(&format, head + 8, 4);
  std::memcpy(&vlen, head + 12, 4);
  std::memcpy(c, head + 16, sizeof c);
  std::string key = sha256_hex;
  key.resize(64, ' ');
  if (format != kFormat || std::memcmp(head + 16 + sizeof c, key.data(), 64) != 0) return false;
  const std::string version = tool_version();
  if (vlen != version.size()) return false;
  // Sizes first (no allocation before the file is known to hold them).
  const std::uint64_t elem[9] = {1, 4, 8, 8, 4, 4, 4, 4, 4};
  std::uint64_t expect = kHeader + vlen + 8;
  for (int k = 0; k < 9; ++k) {
    if (c[k] > size) return false;
    expect += c[k] * elem[k];
  }
  if (expect != size) return false;
  uLong crc = crc32_z(0, reinterpret_cast<const Bytef*>(head), kHeader);
  std::string v(vlen, '\0');
  if (vlen && std::fread(&v[0], 1, vlen, file.f) != vlen) return false;
  if (v != version) return false;
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(v.data()), v.size());
  ParaphraseTable t;
  if (!read_array(file.f, t.words_, c[0], crc) || !read_array(file.f, t.word_off_, c[1], crc) ||
      !read_array(file.f, t.word_slots_, c[2], crc) || !read_array(file.f, t.edge_keys_, c[3], crc) ||
      !read_array(file.f, t.edge_vals_, c[4], crc) || !read_array(file.f, t.emit_off_, c[5], crc) ||
      !read_array(file.f, t.emit_ids_, c[6], crc) || !read_array(file.f, t.para_off_, c[7], crc) ||
      !read_array(file.f, t.para_words_, c[8], crc))
    return false;
  char tail[8];
  if (std::fread(tail, 1, 8, file.f) != 8 || std::memcmp(tail + 4, "END!", 4) != 0) return false;
  std::uint32_t stored = 0;
  std::memcpy(&stored, tail, 4);
  if (stored != static_cast<std::uint32_t>(crc)) return false;
  // Structure: every index the lookups follow stays in bounds.
  const std::size_t nwords = t.word_off_.empty() ? 0 : t.word_off_.size() - 1;
  const std::size_t nnodes = t.emit_off_.empty() ? 0 : t.emit_off_.size() - 1;
  const std::size_t npara = t.para_off_.empty() ? 0 : t.para_off_.size() - 1;
  if (!monotonic(t.word_off_, t.words_.size()) || !monotonic(t.emit_off_, t.emit_ids_.size()) ||
      !monotonic(t.para_off_, t.para_words_.size()) || nnodes == 0 || !is_pow2(t.word_slots_.size()) ||
      !is_pow2(t.edge_keys_.size()) || t.edge_vals_.size() != t.edge_keys_.size() ||
      t.word_slots_.size() <= nwords || t.edge_keys_.size() < nnodes)
    return false;
  // Exactly one slot per word and one edge per non-root node (so every probe sequence reaches an empty slot).
  std::size_t used_slots = 0, used_edges = 0;
  for (std::uint64_t s : t.word_slots_) {
    if (s == kEmptySlot) continue;
    if ((s & 0xFFFFFFFFu) >= nwords) return false;
    ++used_slots;
  }
  for (std::size_t k = 0; k < t.edge_keys_.size(); ++k) {
    if (t.edge_keys_[k] == kEmptyEdge) continue;
    const std::int32_t child = t.edge_vals_[k];
    if (child <= 0 || static_cast<std::size_t>(child) >= nnodes || (t.edge_keys_[k] >> 32) >= nnodes) return false;
    ++used_edges;
  }
  if (used_slots != nwords || used_edges + 1 != nnodes) return false;
  for (std::int32_t e : t.emit_ids_)
    if (e < 0 || static_cast<std::size_t>(e) >= npara) return false;
  for (std::int32_t w : t.para_words_)
    if (w < 0 || static_cast<std::size_t>(w) >= nwords) return false;
  out = std::move(t);
  return true;
}

std::string ParaphraseTable::default_cache_dir() {
  if (const char* off = std::getenv("GLAMM_NO_CACHE"); off && *off && std::string(off) != "0") return "";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return (std::filesystem::path(x) / "glamm-eval").string();
  if (const char* h = std::getenv("HOME"); h && *h)
    return (std::filesystem::path(h) / ".cache" / "glamm-eval").string();
  return "";
}

ParaphraseTable ParaphraseTable::load_gz_cached(const std::string& data, const std::string& sha256_hex,
                                                const std::string& source, const std::string& cache_dir,
                                                CacheUse* used) {
  if (cache_dir.empty() || sha256_hex.size() != 64) {
    if (used) *used = CacheUse::kParsed;
    return load_gz_bytes(data, source);
  }
  const std::string path = (std::filesystem::path(cache_dir) / ("paraphrase-" + sha256_hex + ".bin")).string();
  ParaphraseTable t;
  if (read_cache(path, sha256_hex, t)) {
    if (used) *used = CacheUse::kFromCache;
    return t;
  }
  t = load_gz_bytes(data, source);
  try {
    io::write_file_atomic(path, t.serialize(sha256_hex));
    if (used) *used = CacheUse::kParsedAndCached;
  } catch (const InputError&) {
    if (used) *used = CacheUse::kParsed;  // read-only or full cache folder: the parsed table is as good
  }
  return t;
}

}  // namespace glamm::meteor
