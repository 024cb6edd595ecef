#include "metrics/spice/lg_parser.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <mutex>
#include <set>
#include <unordered_set>

#include <link-grammar/link-includes.h>

#include "common/error.h"
#include "metrics/spice/lemmatizer.h"

namespace glamm::spice {
namespace {

// --------------------------------------------------------------------------------------------------------------
// Word lists.
const std::unordered_set<std::string>& pronouns() {
  static const std::unordered_set<std::string> s = {
      "it",   "this",    "that",    "these",    "those",  "he",      "she",        "they",    "them", "him",
      "her",  "i",       "you",     "we",       "me",     "us",      "his",        "its",     "their", "there",
      "'s",   "itself",  "himself", "herself",  "themselves", "who", "which",      "what",    "something",
      "someone", "somebody", "anyone", "anything", "everything", "everyone", "one", "ones", "our", "my", "your"};
  return s;
}
const std::unordered_set<std::string>& quantity_words() {
  static const std::unordered_set<std::string> s = {
      "one",   "two",    "three",  "four",    "five",     "six",     "seven",  "eight",  "nine",   "ten",
      "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
      "twenty", "thirty", "forty",  "fifty",   "hundred",  "dozen",   "dozens", "several", "many",  "few",
      "multiple", "numerous", "various"};
  return s;
}
const std::unordered_set<std::string>& particles() {
  static const std::unordered_set<std::string> s = {"up", "down", "out", "off", "away", "over", "back", "around"};
  return s;
}
// Function words never taken as objects by the noun-only fallback.
const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> s = {
      "a",    "an",   "the",  "of",    "in",    "on",   "at",   "to",   "for",  "with", "by",    "from",
      "and",  "or",   "but",  "is",    "are",   "was",  "were", "be",   "been", "being", "it",   "its",
      "this", "that", "these", "those", "there", "some", "has",  "have", "had",  "as",   "near", "next",
      "into", "onto", "while", "his",  "her",   "their", "he",   "she",  "they", "up",   "down", "out",
      "off",  "over", "under", "very", "who",   "which", "what", "s",    "'s",   "not",  "no",   "do",
      "does", "i",    "you",  "we",    "one",   "two",  "three", "four", "five", "six",  "seven", "eight",
      "nine", "ten",  "other", "another", "each", "all", "any",  "just", "also", "so",   "than", "then"};
  return s;
}

struct Word {
  std::string stem;  // lowercase word without flags/subscript
  std::string sub;   // LG subscript ("n", "v-d", ...) or ""
  bool null = false;  // unlinked word ("[word]")
};
struct Link {
  int l, r;
  std::string type;  // leading capitals, or "_" for idiom links
  std::string sub;   // the rest
};

Word split_word(const std::string& raw) {
  Word w;
  std::string s = raw;
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
    w.null = true;
    s = s.substr(1, s.size() - 2);
  }
  // Drop a guess flag "[?]", "[!...]", "[~]" etc.
  std::size_t b = s.find('[');
  if (b != std::string::npos && b > 0) {
    std::size_t e = s.find(']', b);
    if (e != std::string::npos) s.erase(b, e - b + 1);
  }
  std::size_t dot = s.rfind('.');
  if (dot != std::string::npos && dot > 0 && dot + 1 < s.size() && std::isalpha(static_cast<unsigned char>(s[dot + 1]))) {
    w.sub = s.substr(dot + 1);
    s = s.substr(0, dot);
  }
  w.stem = s;
  return w;
}

Link split_link(int l, int r, const std::string& label) {
  Link k{l, r, "", ""};
  if (!label.empty() && label[0] == '_') {
    k.type = "_";
    k.sub = label;
    return k;
  }
  std::size_t i = 0;
  while (i < label.size() && std::isupper(static_cast<unsigned char>(label[i]))) ++i;
  k.type = label.substr(0, i);
  k.sub = label.substr(i);
  return k;
}

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// --------------------------------------------------------------------------------------------------------------
// Linkage → tuples (notes §2).
class Extractor {
 public:
  Extractor(const std::vector<Word>& words, const std::vector<Link>& links, int prefix_words, const Lemmatizer& lem)
      : w_(words), links_(links), prefix_(prefix_words), lem_(lem) {
    conj_children_.resize(w_.size());
    conj_parents_.resize(w_.size());
    for (const auto& k : links_) {
      if ((k.type == "SJ" || k.type == "VJ" || k.type == "AJ" || k.type == "MJ" || k.type == "RJ")) {
        int c = is_conj(k.l) ? k.l : (is_conj(k.r) ? k.r : -1);
        if (c < 0) continue;
        int x = c == k.l ? k.r : k.l;
        conj_children_[c].push_back(x);
        conj_parents_[x].push_back(c);
      }
    }
    // "is standing.n-u" / "is-O-sleeping.v": an -ing object of "be" is the progressive verb, not a noun.
    for (const auto& k : links_)
      if (k.type == "O" && is_be_form(k.l) && ends_with_ing(k.r)) verbal_.insert(k.r);
  }

  std::vector<RawTuple> run() {
    // Objects: nouns that are not compound modifiers.
    for (int i = 0; i < n(); ++i)
      if (content_noun(i) && !is_an_modifier(i)) add({noun_lemma(i)});
    attributes();
    possessives();
    verb_frames();
    noun_pps();
    return std::move(out_);
  }

 private:
  int n() const { return static_cast<int>(w_.size()); }
  bool is_be_form(int i) const {
    static const std::unordered_set<std::string> be = {"is", "are", "was", "were", "be", "'s", "'re"};
    return be.count(stem(i)) > 0;
  }
  bool ends_with_ing(int i) const {
    const auto& s = stem(i);
    return s.size() > 4 && s.compare(s.size() - 3, 3, "ing") == 0;
  }
  bool in_prefix(int i) const { return i >= 1 && i <= prefix_; }
  const std::string& stem(int i) const { return w_[i].stem; }
  const std::string& sub(int i) const { return w_[i].sub; }
  bool is_conj(int i) const {
    const auto& s = stem(i);
    return (s == "and" || s == "or" || s == "but" || s == "nor") && starts_with(sub(i), "j");
  }
  bool is_noun(int i) const {
    const auto& s = sub(i);
    bool noun_sub = s == "n" || starts_with(s, "n-") || s == "s" || s == "p" || s == "g" || s == "d" || s == "t" ||
                    starts_with(s, "s-") || starts_with(s, "p-");
    if (!noun_sub || pronouns().count(stem(i)) || verbal_.count(i)) return false;
    bool letter = false;  // emoji and symbols guessed as nouns are not objects
    for (char c : stem(i)) letter = letter || std::isalpha(static_cast<unsigned char>(c));
    if (!letter) return false;
    if (s == "p" && !lem_.known(stem(i), Pos::Noun)) return false;  // "for.p", "this.p": not nouns
    return true;
  }
  bool content_noun(int i) const { return !in_prefix(i) && !w_[i].null && is_noun(i); }
  bool is_verb(int i) const {
    const auto& s = sub(i);
    return !s.empty() && (s[0] == 'v' || s[0] == 'w' || s[0] == 'q');
  }
  bool is_an_modifier(int i) const {
    for (const auto& k : links_)
      if ((k.type == "AN" || (k.type == "A" && sub(i) == "g")) && k.l == i) return true;
    return false;
  }
  int head(int i) const {  // follow AN to the compound head
    for (int guard = 0; guard < 8; ++guard) {
      int next = -1;
      for (const auto& k : links_)
        if (k.type == "AN" && k.l == i) next = k.r;
      if (next < 0) return i;
      i = next;
    }
    return i;
  }
  std::string noun_lemma(int i) const {
    if (sub(i) == "g") return stem(i);
    return lem_.lemma(stem(i), Pos::Noun);
  }
  std::string verb_lemma(int i) const {
    if (stem(i) == "'s" || stem(i) == "'re" || stem(i) == "'m") return "be";
    return lem_.lemma(stem(i), Pos::Verb);
  }
  std::string adj_lemma(int i) const {
    const auto& s = sub(i);
    if (starts_with(s, "a-c") || starts_with(s, "a-s")) return lem_.adjective_base(stem(i));
    if (is_verb(i)) return verb_lemma(i);
    return stem(i);
  }

  // Expand a conjunction word into its conjuncts (recursively).
  void expand(int i, std::vector<int>& out, int depth = 0) const {
    if (depth < 6 && is_conj(i) && !conj_children_[i].empty()) {
      for (int c : conj_children_[i]) expand(c, out, depth + 1);
    } else {
      out.push_back(i);
    }
  }
  void self_and_conj_parents(int i, std::vector<int>& out, int depth = 0) const {
    out.push_back(i);
    if (depth < 6)
      for (int p : conj_parents_[i]) self_and_conj_parents(p, out, depth + 1);
  }
  // Right ends of links of `type` (and optional subscript prefix) from i (or a conjunction i belongs to).
  std::vector<int> targets(int i, const char* type, const char* subp = "") const {
    std::vector<int> from, out;
    self_and_conj_parents(i, from);
    for (const auto& k : links_)
      if (k.type == type && starts_with(k.sub, subp) && std::find(from.begin(), from.end(), k.l) != from.end())
        expand(k.r, out);
    return out;
  }
  std::vector<int> sources(int j, const char* type, const char* subp = "") const {
    std::vector<int> to, out;
    self_and_conj_parents(j, to);
    for (const auto& k : links_)
      if (k.type == type && starts_with(k.sub, subp) && std::find(to.begin(), to.end(), k.r) != to.end())
        expand(k.l, out);
    return out;
  }
  // The preposition string: the idiom group of word p ("in front of", "next to").
  std::string prep_string(int p) const {
    std::set<int> group = {p};
    bool grew = true;
    while (grew) {
      grew = false;
      for (const auto& k : links_) {
        if (k.type != "_") continue;
        if (group.count(k.l) && !group.count(k.r)) grew = group.insert(k.r).second || grew;
        if (group.count(k.r) && !group.count(k.l)) grew = group.insert(k.l).second || grew;
      }
    }
    std::string s;
    for (int g : group) s += (s.empty() ? "" : " ") + stem(g);
    return s;
  }
  std::vector<int> pobjs(int p) const {
    std::vector<int> out;
    for (int o : targets(p, "J"))
      if (content_noun(o)) out.push_back(head(o));
    return out;
  }

  void add(RawTuple t) {
    for (const auto& x : t)
      if (x.empty()) return;
    if (std::find(out_.begin(), out_.end(), t) == out_.end()) out_.push_back(std::move(t));
  }

  void attributes() {
    for (const auto& k : links_) {
      if (k.type == "A" || k.type == "AN") {
        std::vector<int> mods, nouns;
        expand(k.l, mods);
        expand(k.r, nouns);
        for (int nn : nouns) {
          if (!content_noun(nn)) continue;
          int h = head(nn);
          for (int m : mods) {
            if (in_prefix(m)) continue;
            add({noun_lemma(h), k.type == "AN" ? noun_lemma(m) : adj_lemma(m)});
          }
        }
      } else if (k.type == "D" && quantity_words().count(stem(k.l))) {
        std::vector<int> nouns;
        expand(k.r, nouns);
        for (int nn : nouns)
          if (content_noun(nn)) add({noun_lemma(head(nn)), stem(k.l)});
      }
    }
  }

  int first_noun() const {
    for (int i = 0; i < n(); ++i)
      if (content_noun(i) && !is_an_modifier(i)) return i;
    return -1;
  }

  void possessives() {
    for (const auto& k : links_) {
      if (k.type != "D") continue;
      std::vector<int> owned;
      expand(k.r, owned);
      if (stem(k.l) == "'s") {
        for (int x : sources(k.l, "YS"))
          if (content_noun(x))
            for (int y : owned)
              if (content_noun(y)) add({noun_lemma(head(x)), noun_lemma(head(y)), "have"});
      } else if (stem(k.l) == "his" || stem(k.l) == "her" || stem(k.l) == "their" || stem(k.l) == "its") {
        int f = first_noun();
        for (int y : owned)
          if (f >= 0 && content_noun(y) && head(y) != f) add({noun_lemma(f), noun_lemma(head(y)), "have"});
      }
    }
  }

  void frame(const std::vector<int>& subjects, int verb, bool participle) {
    bool presentational = subjects.empty();
    std::vector<int> heads = {verb};
    int content = verb;
    for (int guard = 0; guard < 6; ++guard) {
      int next = -1;
      for (const auto& k : links_) {
        if (k.l != content) continue;
        if ((k.type == "P" && (starts_with(k.sub, "g") || starts_with(k.sub, "v"))) || k.type == "PP" || k.type == "I")
          next = k.r;
      }
      if (next < 0 && is_be_form(content))
        for (const auto& k : links_)
          if (k.l == content && k.type == "O" && verbal_.count(k.r)) next = k.r;
      if (next < 0 || !(is_verb(next) || verbal_.count(next))) break;
      content = next;
      heads.push_back(content);
    }
    std::string base = verb_lemma(content);
    bool be = base == "be";
    for (int part : targets(content, "K")) base += " " + stem(part);
    bool emitted = false;
    // Predicative adjectives / particles read as adjectives.
    for (int h : heads) {
      for (int a : targets(h, "P", "a")) {
        if (particles().count(stem(a)) && !be) {
          base += " " + stem(a);
          heads.push_back(a);
          continue;
        }
        for (int s : subjects) add({noun_lemma(s), adj_lemma(a)}), emitted = true;
      }
      for (int p : targets(h, "P", "p")) {
        for (int o : pobjs(p))
          for (int s : subjects) add({noun_lemma(s), noun_lemma(o), prep_string(p)}), emitted = true;
      }
    }
    std::vector<int> objects;
    for (int o : targets(content, "O"))
      if (content_noun(o)) objects.push_back(head(o));
    if (!presentational && !be)
      for (int o : objects)
        for (int s : subjects) add({noun_lemma(s), noun_lemma(o), base}), emitted = true;
    for (int h : heads) {
      for (int p : targets(h, "MV")) {
        auto objs = pobjs(p);
        if (objs.empty()) continue;
        // Rule 1: a PP that also hangs on a noun stays with the noun, unless that noun is this frame's subject.
        bool noun_head = false, subject_head = false;
        for (int m : sources(p, "M", "p")) {
          bool instrument = !presentational && !be && stem(p) == "with" &&
                            std::find(objects.begin(), objects.end(), head(m)) != objects.end();
          if (instrument || std::find(subjects.begin(), subjects.end(), head(m)) != subjects.end()) {
            subject_head = true;
          } else if (content_noun(m)) {
            noun_head = true;
          }
        }
        if (noun_head && !subject_head) continue;
        if (subject_head) claimed_.insert(p);
        if (presentational) {
          // Rule 3: a PP on the presentational verb ("it shows", "there is") goes to the verb's object.
          for (int o : objects)
            for (int x : objs) add({noun_lemma(o), noun_lemma(x), prep_string(p)});
        } else {
          std::string pred = be ? prep_string(p) : base + " " + prep_string(p);
          for (int s : subjects)
            for (int x : objs) add({noun_lemma(s), noun_lemma(x), pred}), emitted = true;
        }
      }
    }
    if (presentational || emitted || be) return;
    // Rule 2: a participle without a PP of its own takes its subject noun's PP to its right.
    if (participle) {
      for (int s : subjects) {
        for (const auto& k : links_) {
          if (!(k.type == "M" && starts_with(k.sub, "p") && k.l == s && k.r > verb)) continue;
          for (int x : pobjs(k.r)) add({noun_lemma(s), noun_lemma(x), base + " " + prep_string(k.r)}), emitted = true;
          claimed_.insert(k.r);
        }
      }
    }
    if (!emitted)
      for (int s : subjects) add({noun_lemma(s), base});
  }

  void verb_frames() {
    for (const auto& k : links_) {
      if (k.type == "S" || k.type == "SF") {
        std::vector<int> subj, verbs, nouns;
        expand(k.l, subj);
        expand(k.r, verbs);
        for (int s : subj)
          if (content_noun(s)) nouns.push_back(head(s));
        bool presentational = k.type == "SF" || nouns.empty();
        if (!presentational || k.type == "SF" || pronouns().count(stem(k.l)) || in_prefix(k.l))
          for (int v : verbs) frame(presentational ? std::vector<int>{} : nouns, v, false);
      } else if (k.type == "B" && content_noun(k.l) && is_verb(k.r) && !sources(k.r, "RS").empty()) {
        frame({head(k.l)}, k.r, false);  // subject relative clause: "a bathroom that is clean"
      } else if (k.type == "M" && (starts_with(k.sub, "g") || starts_with(k.sub, "v"))) {
        std::vector<int> subj, verbs, nouns;
        expand(k.l, subj);
        expand(k.r, verbs);
        for (int s : subj)
          if (content_noun(s)) nouns.push_back(head(s));
        if (nouns.empty()) continue;
        for (int v : verbs)
          if (is_verb(v)) frame(nouns, v, true);
      }
    }
  }

  void noun_pps() {
    for (const auto& k : links_) {
      bool pp = (k.type == "M" && (starts_with(k.sub, "p") || starts_with(k.sub, "f"))) || k.type == "OF";
      if (!pp || claimed_.count(k.r)) continue;
      std::vector<int> nouns;
      expand(k.l, nouns);
      for (int nn : nouns) {
        if (!content_noun(nn)) continue;
        int gov = head(nn);
        if (stem(k.r) != "of") {  // "a piece of cake on a plate": the PP goes to "piece"
          for (int o : sources(nn, "J"))
            if (stem(o) == "of")
              for (const char* t : {"M", "OF"})
                for (int m : sources(o, t, t[0] == 'M' ? "f" : "")) if (content_noun(m)) gov = head(m);
        }
        for (int x : pobjs(k.r)) add({noun_lemma(gov), noun_lemma(x), prep_string(k.r)});
      }
    }
  }

  const std::vector<Word>& w_;
  const std::vector<Link>& links_;
  int prefix_;
  const Lemmatizer& lem_;
  std::vector<std::vector<int>> conj_children_, conj_parents_;
  std::set<int> claimed_;
  std::set<int> verbal_;
  std::vector<RawTuple> out_;
};

void quiet_handler(lg_errinfo*, void*) {}

}  // namespace

std::string display(const RawTuple& t) {
  if (t.size() == 3) return "(" + t[0] + ", " + t[2] + ", " + t[1] + ")";
  std::string s = "(";
  for (std::size_t i = 0; i < t.size(); ++i) s += (i ? ", " : "") + t[i];
  return s + ")";
}

// --------------------------------------------------------------------------------------------------------------
struct LinkParser::Impl {
  ParserOptions opt;
  Dictionary dict = nullptr;
  std::unique_ptr<Lemmatizer> lem;

  struct Parsed {
    std::vector<Word> words;
    std::vector<Link> links;
  };

  int penalty(const Parsed& p, int prefix) const {
    int pen = 0;
    auto ing = [](const std::string& s) { return s.size() > 4 && s.compare(s.size() - 3, 3, "ing") == 0; };
    for (std::size_t i = 1; i < p.words.size(); ++i) {
      const auto& w = p.words[i];
      const auto& before = p.words[i - 1];
      // A unit-abbreviation reading ("in.u" = inch in "in front of") is almost never meant in a caption.
      if (w.sub == "u") pen += 2;
      // A finite verb right after an attributive adjective ("a lush green field.v"): adjectives precede nouns.
      if (w.sub == "v" && starts_with(before.sub, "a")) ++pen;
      // The same with the adjective read as a noun: "a white.s dog.v" (noun-verb readings of adjective + noun).
      const bool before_noun = starts_with(before.sub, "n") || before.sub == "s" || before.sub == "p";
      if (w.sub == "v" && before_noun && lem->known(before.stem, Pos::Adj) && lem->known(w.stem, Pos::Noun) &&
          i >= 2 && (p.words[i - 2].stem == "a" || p.words[i - 2].stem == "an" || p.words[i - 2].stem == "the"))
        ++pen;
      // An adjective read as a noun before another adjective ("lush.n green.a field").
      if (starts_with(before.sub, "n") && starts_with(w.sub, "a") && lem->known(before.stem, Pos::Adj)) ++pen;
      // A participle without an object followed by a plural noun read as a finite verb ("riding skis.v down"):
      // the transitive reading (participle + object) is preferred.
      if (w.sub == "v" && before.sub == "v" && ing(before.stem) && lem->known(w.stem, Pos::Noun) &&
          lem->lemma(w.stem, Pos::Noun) != w.stem)
        ++pen;
      if (w.sub == "ij") pen += 2;
      const auto& prev = p.words[i - 1];
      bool prev_noun = prev.sub == "n" || prev.sub == "s" || prev.sub == "p" || starts_with(prev.sub, "n-");
      if (w.sub == "g" && prev_noun) ++pen;
      if (w.sub == "g" && !prev_noun) {
        bool modifier = false;
        for (const auto& k : p.links)
          if (k.l == static_cast<int>(i) && (k.type == "A" || k.type == "AN")) modifier = true;
        if (!modifier) ++pen;
      }
    }
    // Coordination attaches low: in "a kitchen with a stove and a refrigerator" the conjuncts are the two
    // prepositional objects, not "a kitchen with a stove" and "a refrigerator". A left conjunct (SJl) that carries a
    // PP (Mp) whose object lies between it and the conjunction is penalised.
    for (const auto& k : p.links) {
      if (k.type != "SJ" || !starts_with(k.sub, "l")) continue;
      bool low = false;
      for (const auto& m : p.links)
        if (m.type == "M" && starts_with(m.sub, "p") && m.l == k.l)
          for (const auto& j : p.links)
            if (j.type == "J" && j.l == m.r && j.r < k.r) low = true;
      // Parallel conjuncts ("a man with a hat and a woman with a bag") keep the high attachment.
      for (const auto& r : p.links)
        if (r.type == "SJ" && starts_with(r.sub, "r") && r.l == k.r)
          for (const auto& m : p.links)
            if (m.type == "M" && starts_with(m.sub, "p") && m.l == r.r) low = false;
      if (low) ++pen;
    }
    std::size_t first = static_cast<std::size_t>(prefix) + 1;
    if (first < p.words.size() && !p.words[first].sub.empty() && p.words[first].sub[0] == 'v') ++pen;
    return pen;
  }

  // A noun + "-ing" noun compound ("men.p standing.n-u", "elephant standing.g") is read as a noun with a
  // participle (SPICE's CoreNLP parse of such fragments: NP → NN VP[VBG]): the noun becomes the head (it takes the
  // links the -ing word had as a noun; other noun modifiers move to it), the -ing word becomes a participle (M "g"
  // link) and its noun PP becomes the participle's PP (MVp). Only for -ing words that WordNet knows as verbs.
  void participle_repair(Parsed& p) const {
    auto ing = [](const std::string& s) { return s.size() > 4 && s.compare(s.size() - 3, 3, "ing") == 0; };
    auto nounish = [](const std::string& sub) {
      return sub == "n" || sub == "s" || sub == "p" || starts_with(sub, "n-") || starts_with(sub, "s-") ||
             starts_with(sub, "p-");
    };
    for (std::size_t h = 2; h < p.words.size(); ++h) {
      Word& w = p.words[h];
      if (!ing(w.stem) || !(w.sub == "g" || nounish(w.sub))) continue;
      if (!lem->known(lem->lemma(w.stem, Pos::Verb), Pos::Verb)) continue;
      const int hi = static_cast<int>(h), m = hi - 1;
      const Word& mw = p.words[static_cast<std::size_t>(m)];
      if (!nounish(mw.sub) || ing(mw.stem)) continue;
      bool compound = false;
      for (const auto& k : p.links)
        if (k.type == "AN" && k.l == m && k.r == hi) compound = true;
      if (!compound) continue;
      w.sub = "v";
      std::vector<Link> out;
      for (auto k : p.links) {
        if (k.type == "AN" && k.l == m && k.r == hi) continue;
        if (k.l == hi && k.type == "M" && starts_with(k.sub, "p")) {
          k.type = "MV";
        } else if (k.r == hi) {
          k.r = m;
        } else if (k.l == hi) {
          k.l = m;
        }
        if (k.l != k.r) out.push_back(k);
      }
      out.push_back(Link{m, hi, "M", "g"});
      p.links = std::move(out);
    }
  }

  Parsed read(Linkage lk) const {
    Parsed p;
    int nw = linkage_get_num_words(lk);
    for (int i = 0; i < nw; ++i) p.words.push_back(split_word(linkage_get_word(lk, i)));
    int nl = linkage_get_num_links(lk);
    for (int i = 0; i < nl; ++i) {
      int l = static_cast<int>(linkage_get_link_lword(lk, i));
      int r = static_cast<int>(linkage_get_link_rword(lk, i));
      p.links.push_back(split_link(l, r, linkage_get_link_label(lk, i)));
    }
    return p;
  }

  // Parse `text` allowing null links in [min_null, max_null]; the best re-ranked linkage, or false.
  bool attempt(const std::string& text, int min_null, int max_null, int prefix, Parsed& best, int& nulls,
               int* best_penalty = nullptr) const {
    Parse_Options po = parse_options_create();
    parse_options_set_verbosity(po, 0);
    parse_options_set_linkage_limit(po, opt.linkage_limit);
    parse_options_set_short_length(po, opt.short_length);
    parse_options_set_max_parse_time(po, opt.max_parse_time_s);
    parse_options_set_repeatable_rand(po, true);
    parse_options_set_min_null_count(po, min_null);
    parse_options_set_max_null_count(po, max_null);
    parse_options_set_islands_ok(po, false);
    Sentence s = sentence_create(text.c_str(), dict);
    bool ok = false;
    if (s && sentence_split(s, po) == 0 && sentence_parse(s, po) > 0) {
      int nv = sentence_num_valid_linkages(s);
      int look = std::max(1, std::min(nv, opt.rerank_linkages));
      int best_pen = 1 << 30;
      for (int i = 0; i < look; ++i) {
        Linkage lk = linkage_create(i, s, po);
        if (!lk) continue;
        Parsed p = read(lk);
        linkage_delete(lk);
        int pen = penalty(p, prefix);
        if (pen < best_pen) {
          best_pen = pen;
          best = std::move(p);
          ok = true;
          if (pen == 0) break;
        }
      }
      nulls = sentence_null_count(s);
      if (best_penalty) *best_penalty = best_pen;
    }
    if (s) sentence_delete(s);
    parse_options_delete(po);
    return ok;
  }

  // True when the caption starts with a singular noun or an adjective and no determiner: a closed-class word
  // (article, demonstrative, possessive, numeral, quantifier, pronoun, preposition, conjunction, auxiliary) or a
  // plural noun (bare plurals are grammatical) keeps the caption as it is.
  bool needs_article(const std::vector<std::string>& tokens) const {
    static const std::unordered_set<std::string> closed = {
        "a",     "an",    "the",   "this",  "that",  "these", "those", "some",  "any",   "no",    "each",  "every",
        "all",   "both",  "either", "neither", "another", "other", "such", "much", "many", "few", "several", "more",
        "most",  "lots",  "lot",   "plenty", "enough", "one",  "two",   "three", "four",  "five",  "six",   "seven",
        "eight", "nine",  "ten",   "eleven", "twelve", "twenty", "hundred", "dozen", "dozens", "couple",
        "there", "here",  "it",    "he",    "she",   "they",  "we",    "i",     "you",   "his",   "her",   "its",
        "their", "our",   "my",    "your",  "what",  "which", "who",   "whose", "in",    "on",    "at",    "of",
        "with",  "from",  "by",    "for",   "to",    "into",  "onto",  "under", "over",  "near",  "behind", "inside",
        "outside", "through", "across", "along", "beside", "between", "above", "below", "and", "or", "but", "is",
        "are",   "was",   "were",  "be",    "do",    "does",  "can",   "not",   "very",  "just"};
    if (tokens.empty() || closed.count(tokens[0])) return false;
    const std::string& w = tokens[0];
    if (!std::isalpha(static_cast<unsigned char>(w[0]))) return false;
    bool noun = lem->known(w, Pos::Noun), adj = lem->known(w, Pos::Adj);
    if (!noun && !adj) return false;
    if (noun && !adj && lem->lemma(w, Pos::Noun) != w) return false;  // plural noun
    return true;
  }

  std::vector<RawTuple> nouns_only(const std::vector<std::string>& tokens) const {
    std::vector<RawTuple> out;
    for (const auto& t : tokens) {
      if (stop_words().count(t) || !lem->known(t, Pos::Noun)) continue;
      RawTuple tup{lem->lemma(t, Pos::Noun)};
      if (std::find(out.begin(), out.end(), tup) == out.end()) out.push_back(tup);
    }
    return out;
  }
};

LinkParser::LinkParser(ParserOptions opt, const std::string& wordnet_dir) : impl_(std::make_unique<Impl>()) {
  impl_->opt = opt;
  impl_->lem = std::make_unique<Lemmatizer>(wordnet_dir.empty() ? Lemmatizer::default_dir() : wordnet_dir);
  static std::once_flag quiet;
  std::call_once(quiet, [] { lg_error_set_handler(quiet_handler, nullptr); });
  impl_->dict = dictionary_create_lang("en");
  if (!impl_->dict)
    throw InputError("link-grammar en dictionary", "",
                     "cannot load the Link Grammar English dictionary (install link-grammar-dictionaries-en)");
}

LinkParser::~LinkParser() {
  if (impl_ && impl_->dict) dictionary_delete(impl_->dict);
}

const Lemmatizer& LinkParser::lemmatizer() const { return *impl_->lem; }

std::string LinkParser::version() const {
  return std::string(linkgrammar_get_version()) + " dict " + linkgrammar_get_dict_version(impl_->dict);
}

CaptionParse LinkParser::parse(const std::string& caption) const {
  CaptionParse res;
  std::vector<std::string> tokens;
  {
    std::string cur;
    for (char c : caption) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        if (!cur.empty()) tokens.push_back(cur), cur.clear();
      } else {
        cur += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      }
    }
    if (!cur.empty()) tokens.push_back(cur);
  }
  if (tokens.empty()) return res;
  std::string text;
  for (const auto& t : tokens) text += (text.empty() ? "" : " ") + t;
  if (static_cast<int>(tokens.size()) > impl_->opt.max_words) {
    res.tuples = impl_->nouns_only(tokens);
    return res;
  }
  Impl::Parsed p;
  int nulls = 0;
  auto finish = [&](int prefix_words, const std::string& prefix, ParseMode mode) {
    res.prefix = prefix;
    res.mode = mode;
    res.null_count = nulls;
    impl_->participle_repair(p);
    Extractor ex(p.words, p.links, prefix_words, *impl_->lem);
    res.tuples = ex.run();
    if (mode == ParseMode::NullLinks) {
      std::vector<std::string> unlinked;
      for (std::size_t i = 1 + prefix_words; i < p.words.size(); ++i)
        if (p.words[i].null) unlinked.push_back(p.words[i].stem);
      for (auto& t : impl_->nouns_only(unlinked))
        if (std::find(res.tuples.begin(), res.tuples.end(), t) == res.tuples.end()) res.tuples.push_back(t);
    }
  };
  // Headline-style captions drop the leading article ("man riding skis down a slope"); a singular count noun
  // without a determiner has no linkage in Link Grammar's English (or a wrong one: "man" as a verb), so such a
  // caption is parsed with "a " restored first. The article is a prefix word: it yields no tuple.
  const bool article = impl_->needs_article(tokens);
  // Complete linkages: the caption (after the article when it needs one), then with a presentational prefix that
  // makes it the object of a clause. The first linkage without a re-ranking penalty wins; when every variant has
  // one, the variant with the lowest penalty (the earliest on ties).
  struct Variant {
    std::string prefix;
    int words;
  };
  std::vector<Variant> variants;
  if (article) {
    variants.push_back({"a ", 1});
    if (impl_->opt.prefix_fallback) variants.push_back({"it shows a ", 3}), variants.push_back({"this is a ", 3});
  }
  variants.push_back({"", 0});
  if (impl_->opt.prefix_fallback)
    for (const char* pre : {"it shows ", "this is ", "there are "}) variants.push_back({pre, 2});
  {
    Impl::Parsed best;
    int best_pen = 1 << 30, best_nulls = 0;
    const Variant* chosen = nullptr;
    for (const auto& v : variants) {
      Impl::Parsed q;
      int pen = 0, nq = 0;
      if (!impl_->attempt(v.prefix + text, 0, 0, v.words, q, nq, &pen) || pen >= best_pen) continue;
      best = std::move(q);
      best_pen = pen;
      best_nulls = nq;
      chosen = &v;
      if (pen == 0) break;
    }
    if (chosen) {
      p = std::move(best);
      nulls = best_nulls;
      finish(chosen->words, chosen->prefix, ParseMode::Complete);
      return res;
    }
  }
  if (article) {
    Impl::Parsed pa;
    int na = 0;
    bool with_article = impl_->attempt("a " + text, 1, static_cast<int>(tokens.size()), 1, pa, na);
    bool plain = impl_->attempt(text, 1, static_cast<int>(tokens.size()), 0, p, nulls);
    if (with_article && (!plain || na <= nulls)) {
      p = std::move(pa);
      nulls = na;
      finish(1, "a ", ParseMode::NullLinks);
      return res;
    }
    if (plain) {
      finish(0, "", ParseMode::NullLinks);
      return res;
    }
  } else if (impl_->attempt(text, 1, static_cast<int>(tokens.size()), 0, p, nulls)) {
    finish(0, "", ParseMode::NullLinks);
    return res;
  }
  res.tuples = impl_->nouns_only(tokens);
  return res;
}

}  // namespace glamm::spice
