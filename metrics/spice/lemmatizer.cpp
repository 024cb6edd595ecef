#include "metrics/spice/lemmatizer.h"

#include <cstdlib>

#include "common/error.h"
#include "common/io.h"

namespace glamm::spice {
namespace {

const char* const kPosName[4] = {"noun", "verb", "adj", "adv"};

struct Rule {
  const char* suffix;
  const char* ending;
};
// WordNet morphy detachment rules (morph.c sufx/addr tables) per part of speech.
const Rule kNounRules[] = {{"s", ""},     {"ses", "s"},   {"xes", "x"}, {"zes", "z"},
                           {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}};
const Rule kVerbRules[] = {{"s", ""},   {"ies", "y"}, {"es", "e"},  {"es", ""},
                           {"ed", "e"}, {"ed", ""},   {"ing", "e"}, {"ing", ""}};
const Rule kAdjRules[] = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

template <std::size_t N>
std::string apply_rules(const std::string& w, const Rule (&rules)[N], const std::unordered_set<std::string>& index) {
  for (const auto& r : rules) {
    std::string suf = r.suffix;
    if (w.size() <= suf.size() || !ends_with(w, suf)) continue;
    std::string cand = w.substr(0, w.size() - suf.size()) + r.ending;
    if (index.count(cand)) return cand;
  }
  return "";
}

}  // namespace

std::string Lemmatizer::default_dir() {
  const char* env = std::getenv("GLAMM_WORDNET");
  return env && *env ? std::string(env) : std::string("/usr/share/wordnet");
}

Lemmatizer::Lemmatizer(const std::string& dir) {
  for (int p = 0; p < 4; ++p) {
    std::string idx_path = dir + "/index." + kPosName[p];
    std::string text;
    try {
      text = io::read_file(idx_path);
    } catch (const std::exception& e) {
      throw InputError(idx_path, "", std::string("cannot read WordNet index (install wordnet-base or set GLAMM_WORDNET): ") + e.what());
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      if (text[pos] != ' ') {  // license header lines start with two spaces
        std::size_t sp = text.find(' ', pos);
        if (sp != std::string::npos && sp < eol) index_[p].emplace(text.substr(pos, sp - pos));
      }
      pos = eol + 1;
    }
    std::string exc_path = dir + "/" + kPosName[p] + ".exc";
    try {
      text = io::read_file(exc_path);
    } catch (const std::exception& e) {
      throw InputError(exc_path, "", std::string("cannot read WordNet exception list: ") + e.what());
    }
    pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string::npos) eol = text.size();
      std::size_t sp = text.find(' ', pos);
      if (sp != std::string::npos && sp < eol) {
        std::size_t sp2 = text.find(' ', sp + 1);
        if (sp2 == std::string::npos || sp2 > eol) sp2 = eol;
        exc_[p].emplace(text.substr(pos, sp - pos), text.substr(sp + 1, sp2 - sp - 1));  // first base wins
      }
      pos = eol + 1;
    }
  }
}

std::string Lemmatizer::lemma(const std::string& w, Pos pos) const {
  int p = static_cast<int>(pos);
  auto ex = exc_[p].find(w);
  if (ex != exc_[p].end()) return ex->second;
  // Plural nouns first try the detachment rules (CoreNLP gives "cow" for NNS "cows", which WordNet also lists).
  if (pos == Pos::Noun && !ends_with(w, "ss") && ends_with(w, "s")) {
    std::string r = apply_rules(w, kNounRules, index_[p]);
    if (!r.empty()) return r;
  }
  if (index_[p].count(w)) return w;
  std::string r;
  switch (pos) {
    case Pos::Noun:
      if (ends_with(w, "ss")) return w;
      r = apply_rules(w, kNounRules, index_[p]);
      break;
    case Pos::Verb: r = apply_rules(w, kVerbRules, index_[p]); break;
    case Pos::Adj: r = apply_rules(w, kAdjRules, index_[p]); break;
    case Pos::Adv: break;
  }
  return r.empty() ? w : r;
}

std::string Lemmatizer::adjective_base(const std::string& w) const {
  const int p = static_cast<int>(Pos::Adj);
  auto ex = exc_[p].find(w);
  if (ex != exc_[p].end()) return ex->second;
  std::string r = apply_rules(w, kAdjRules, index_[p]);
  if (!r.empty()) return r;
  for (const char* suf : {"er", "est"}) {  // bigger → bigg → big
    std::string s = suf;
    if (w.size() > s.size() + 2 && ends_with(w, s)) {
      std::string stem = w.substr(0, w.size() - s.size());
      if (stem[stem.size() - 1] == stem[stem.size() - 2]) {
        stem.pop_back();
        if (index_[p].count(stem)) return stem;
      }
    }
  }
  return w;
}

bool Lemmatizer::known(const std::string& w, Pos pos) const {
  int p = static_cast<int>(pos);
  if (exc_[p].count(w) || index_[p].count(w)) return true;
  return lemma(w, pos) != w;
}

}  // namespace glamm::spice
