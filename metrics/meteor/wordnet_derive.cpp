// Deriving METEOR's english.synsets / english.exceptions from WordNet 3.0 data and exception files.
#include "metrics/meteor/wordnet_derive.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/error.h"
#include "common/io.h"

namespace glamm::meteor::wordnet {
namespace fs = std::filesystem;
namespace {

// Lines split at '\n' (a trailing '\r' is dropped), with 1-based numbers.
template <class F>
void for_each_line(const std::string& text, F&& f) {
  std::size_t i = 0, n = text.size(), no = 0;
  while (i < n) {
    std::size_t j = text.find('\n', i);
    if (j == std::string::npos) j = n;
    std::string_view l(text.data() + i, j - i);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    f(l, ++no);
    i = j + 1;
  }
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0, n = line.size();
  while (i < n) {
    while (i < n && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < n && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// A lemma as written in a data file ("Ice_cream", "galore(ip)") → METEOR's form ("ice_cream", "galore").
std::string meteor_lemma(std::string_view word) {
  if (!word.empty() && word.back() == ')') {
    std::size_t p = word.rfind('(');
    if (p != std::string_view::npos && p > 0) word = word.substr(0, p);
  }
  return lower_ascii(word);
}

struct Word {
  std::string lemma;  // METEOR's form
  int lex_id = 0;
};

struct Synset {
  long offset = 0;
  int lex_filenum = 0;
  char ss_type = 'n';
  std::vector<Word> words;
  long head_offset = -1;  // satellites: the first "&" pointer to an adjective ('a') synset
  std::size_t line = 0;
};

[[noreturn]] void bad(const SourceText& f, std::size_t line, const std::string& msg) {
  throw InputError(f.name, "line " + std::to_string(line), msg);
}

long parse_number(const SourceText& f, std::size_t line, std::string_view t, int base, const char* what) {
  long v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  if (ec != std::errc() || p != t.data() + t.size() || v < 0)
    bad(f, line, std::string("bad ") + what + " '" + std::string(t) + "'");
  return v;
}

/// The synsets of one data file (license header lines, which start with a space, are skipped).
std::vector<Synset> parse_data(const SourceText& f) {
  std::vector<Synset> out;
  for_each_line(f.text, [&](std::string_view l, std::size_t no) {
    if (l.empty() || l[0] == ' ') return;
    std::vector<std::string_view> t = fields(l);
    if (t.size() < 4) bad(f, no, "synset line with fewer than 4 fields");
    Synset s;
    s.line = no;
    s.offset = parse_number(f, no, t[0], 10, "synset offset");
    s.lex_filenum = static_cast<int>(parse_number(f, no, t[1], 10, "lex_filenum"));
    if (t[2].size() != 1 || std::string_view("nvasr").find(t[2][0]) == std::string_view::npos)
      bad(f, no, "bad ss_type '" + std::string(t[2]) + "'");
    s.ss_type = t[2][0];
    const long w_cnt = parse_number(f, no, t[3], 16, "w_cnt");
    std::size_t k = 4;
    if (t.size() < k + 2 * static_cast<std::size_t>(w_cnt) + 1) bad(f, no, "synset line cut inside its word list");
    for (long w = 0; w < w_cnt; ++w, k += 2)
      s.words.push_back({meteor_lemma(t[k]), static_cast<int>(parse_number(f, no, t[k + 1], 16, "lex_id"))});
    const long p_cnt = parse_number(f, no, t[k++], 10, "p_cnt");
    if (t.size() < k + 4 * static_cast<std::size_t>(p_cnt)) bad(f, no, "synset line cut inside its pointer list");
    for (long p = 0; p < p_cnt; ++p, k += 4)
      if (s.ss_type == 's' && s.head_offset < 0 && t[k] == "&" && t[k + 2] == "a")
        s.head_offset = parse_number(f, no, t[k + 1], 10, "pointer offset");
    out.push_back(std::move(s));
  });
  return out;
}

std::string two_digits(int v) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

}  // namespace

Files Files::read(const std::string& dir) {
  auto rd = [&](const char* name) {
    fs::path p = fs::path(dir) / name;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
      throw InputError(p.string(), "", "WordNet 3.0 file missing (Debian package wordnet-base installs it)");
    return SourceText{p.string(), io::read_file(p)};
  };
  Files f;
  f.data_noun = rd("data.noun");
  f.data_verb = rd("data.verb");
  f.data_adj = rd("data.adj");
  f.data_adv = rd("data.adv");
  f.exc_adj = rd("adj.exc");
  f.exc_adv = rd("adv.exc");
  f.exc_noun = rd("noun.exc");
  f.exc_verb = rd("verb.exc");
  return f;
}

namespace {
constexpr long kNoEnd = std::numeric_limits<long>::max();
}

const std::vector<OffsetShift>& meteor_offset_shifts() {
  static const std::vector<OffsetShift> shifts = {
      {"adj", 1681478, kNoEnd, -1},
      {"verb", 613036, 2422967, -18},
  };
  return shifts;
}

std::string derive_synsets(const Files& files) {
  struct PosFile {
    const char* pos;
    const SourceText* file;
    std::vector<Synset> synsets;
  };
  std::vector<PosFile> parts = {{"noun", &files.data_noun, {}},
                                {"verb", &files.data_verb, {}},
                                {"adj", &files.data_adj, {}},
                                {"adv", &files.data_adv, {}}};
  for (auto& p : parts) p.synsets = parse_data(*p.file);

  // The corrections only fit the layout they were measured on: a synset must start at every shift boundary.
  for (const OffsetShift& s : meteor_offset_shifts()) {
    for (const auto& p : parts) {
      if (std::string_view(p.pos) != s.pos) continue;
      for (long boundary : {s.from, s.to}) {
        if (boundary == kNoEnd) continue;
        const bool found =
            std::any_of(p.synsets.begin(), p.synsets.end(), [&](const Synset& x) { return x.offset == boundary; });
        if (!found)
          throw InputError(p.file->name, "",
                           "no synset at offset " + std::to_string(boundary) +
                               ": not the WordNet 3.0 layout of Debian's wordnet-base that METEOR's synset ids are "
                               "corrected from");
      }
    }
  }
  auto meteor_id = [](const char* pos, long offset) {
    for (const OffsetShift& s : meteor_offset_shifts())
      if (std::string_view(pos) == s.pos && offset >= s.from && offset < s.to) return offset + s.delta;
    return offset;
  };

  // Adjective heads of satellites, by offset.
  std::unordered_map<long, const Synset*> adjectives;
  for (const Synset& s : parts[2].synsets) adjectives.emplace(s.offset, &s);

  // ss_type as a sense key writes it.
  auto ss_digit = [](char t) {
    switch (t) {
      case 'n': return '1';
      case 'v': return '2';
      case 'a': return '3';
      case 'r': return '4';
      default: return '5';  // 's'
    }
  };

  // lemma → (sense key, METEOR id) pairs.
  std::unordered_map<std::string, std::vector<std::pair<std::string, long>>> senses;
  senses.reserve(160000);
  for (const auto& p : parts) {
    for (const Synset& s : p.synsets) {
      std::string head = ":";
      if (s.ss_type == 's') {
        auto it = s.head_offset < 0 ? adjectives.end() : adjectives.find(s.head_offset);
        if (it == adjectives.end() || it->second->words.empty())
          bad(*p.file, s.line, "adjective satellite without a head adjective ('&' pointer to an 'a' synset)");
        const Word& hw = it->second->words.front();
        head = hw.lemma + ":" + two_digits(hw.lex_id);
      }
      const long id = meteor_id(p.pos, s.offset);
      const std::string tail = std::string(1, ss_digit(s.ss_type)) + ":" + two_digits(s.lex_filenum) + ":";
      for (const Word& w : s.words)
        senses[w.lemma].emplace_back(w.lemma + "%" + tail + two_digits(w.lex_id) + ":" + head, id);
    }
  }

  std::vector<std::string> lemmas;
  lemmas.reserve(senses.size());
  for (const auto& kv : senses) lemmas.push_back(kv.first);
  std::sort(lemmas.begin(), lemmas.end());
  std::string out;
  out.reserve(4u << 20);
  std::vector<long> ids;
  char buf[32];
  for (const std::string& lemma : lemmas) {
    auto& list = senses[lemma];
    std::sort(list.begin(), list.end());
    ids.clear();
    for (const auto& kv : list)
      if (std::find(ids.begin(), ids.end(), kv.second) == ids.end()) ids.push_back(kv.second);
    out += lemma;
    out += '\n';
    for (std::size_t i = 0; i < ids.size(); ++i) {
      std::snprintf(buf, sizeof buf, i ? " %08ld" : "%08ld", ids[i]);
      out += buf;
    }
    out += '\n';
  }
  return out;
}

std::string derive_exceptions(const Files& files) {
  std::map<std::string, std::vector<std::string>> forms_of;  // base → forms, bases in byte order
  for (const SourceText* f : {&files.exc_adj, &files.exc_adv, &files.exc_noun, &files.exc_verb}) {
    for_each_line(f->text, [&](std::string_view l, std::size_t no) {
      std::vector<std::string_view> t = fields(l);
      if (t.empty()) return;
      if (t.size() < 2) bad(*f, no, "exception line without a base form");
      for (std::size_t k = 1; k < t.size(); ++k) forms_of[std::string(t[k])].emplace_back(t[0]);
    });
  }
  std::string out;
  for (const auto& [base, forms] : forms_of) {
    out += base;
    out += '\n';
    for (std::size_t i = 0; i < forms.size(); ++i) {
      if (i) out += ' ';
      out += forms[i];
    }
    out += '\n';
  }
  return out;
}

}  // namespace glamm::meteor::wordnet
