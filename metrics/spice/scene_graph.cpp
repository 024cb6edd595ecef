#include "metrics/spice/scene_graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "metrics/meteor/meteor.h"

namespace glamm::spice {
namespace {

template <class T>
bool sorted_intersect(const std::vector<T>& a, const std::vector<T>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i < *j) {
      ++i;
    } else if (*j < *i) {
      ++j;
    } else {
      return true;
    }
  }
  return false;
}

template <class T>
void sorted_union_into(std::vector<T>& a, const std::vector<T>& b) {
  std::vector<T> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  a = std::move(out);
}

bool ends_with(const std::string& s, const char* suf) {
  std::size_t n = std::char_traits<char>::length(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
bool Concept::similar_to(const Concept& o) const {
  return sorted_intersect(synsets, o.synsets) || sorted_intersect(words, o.words);
}

float Concept::similarity(const Concept& o) const {
  if (sorted_intersect(words, o.words)) return 1.0f;
  std::vector<int> inter;
  std::set_intersection(synsets.begin(), synsets.end(), o.synsets.begin(), o.synsets.end(), std::back_inserter(inter));
  std::size_t uni = synsets.size() + o.synsets.size() - inter.size();
  if (uni == 0) return 0.0f;  // Java: 0f/0f = NaN, which never beats the running maximum
  return static_cast<float>(inter.size()) / static_cast<float>(uni);
}

void Concept::merge(const Concept& o) {
  sorted_union_into(words, o.words);
  sorted_union_into(synsets, o.synsets);
}

std::string Concept::to_string() const {
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) s += '/';
    s += words[i];
  }
  return s;
}

bool Tuple::similar_to(const Tuple& o) const {
  if (items.size() != o.items.size()) return false;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!items[i].similar_to(o.items[i])) return false;
  return true;
}

std::string Tuple::to_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += ',';
    s += items[i].to_string();
  }
  return s + ")";
}

// ---------------------------------------------------------------------------------------------------------------
SynsetLookup meteor_synsets(std::shared_ptr<const meteor::Resources> res) {
  struct Cache {
    std::shared_mutex m;
    std::unordered_map<std::string, std::vector<int>> map;
  };
  auto cache = std::make_shared<Cache>();
  return [res, cache](const std::string& raw) -> std::vector<int> {
    // SceneGraph.getSynSets: trim, lowercase, ' ' → '_'.
    std::size_t b = raw.find_first_not_of(" \t\n\r");
    std::size_t e = raw.find_last_not_of(" \t\n\r");
    std::string w = b == std::string::npos ? std::string() : raw.substr(b, e - b + 1);
    for (char& c : w) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c == ' ') c = '_';
    }
    {
      std::shared_lock<std::shared_mutex> lock(cache->m);
      auto it = cache->map.find(w);
      if (it != cache->map.end()) return it->second;
    }
    auto add = [&](std::vector<int>& out, const std::string& word) {
      auto ids = res->synsets.find(word);
      out.insert(out.end(), ids.begin(), ids.end());
    };
    std::vector<int> out;
    add(out, w);
    // SynonymDictionary.getStemSynSets: the exception bases if the word is an exception, else morph(word).
    auto ex = res->exceptions.find(w);
    if (ex != res->exceptions.end()) {
      for (const auto& base : ex->second) add(out, base);
    } else {
      // SynonymDictionary.morph: the first WordNet detachment rule whose result is a known word.
      static const char* const kSuffix[] = {"s",  "ses", "xes", "zes", "ches", "shes", "men", "ies", "s",  "ies",
                                            "es", "es",  "ed",  "ed",  "ing",  "ing",  "er",  "est", "er", "est"};
      static const char* const kEnd[] = {"", "s", "x", "z", "ch", "sh", "man", "y", "", "y",
                                         "e", "", "e", "", "e",  "",   "",    "",  "e", "e"};
      std::size_t n_chars = 0;  // UTF-16 length ≈ code points for this check
      for (unsigned char c : w) n_chars += (c & 0xC0) != 0x80;
      if (!ends_with(w, "ss") && n_chars > 2) {
        for (std::size_t i = 0; i < sizeof(kSuffix) / sizeof(kSuffix[0]); ++i) {
          if (!ends_with(w, kSuffix[i])) continue;
          std::string cand = w.substr(0, w.size() - std::char_traits<char>::length(kSuffix[i])) + kEnd[i];
          if (res->synsets.contains(cand)) {
            add(out, cand);
            break;
          }
        }
      }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    std::unique_lock<std::shared_mutex> lock(cache->m);
    cache->map.emplace(w, out);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------------------------
SceneGraph::SceneGraph(SynsetLookup synsets, bool merge_concepts) : synsets_(std::move(synsets)), merge_(merge_concepts) {}

Concept SceneGraph::concept_of(const std::string& word) const {
  Concept c;
  c.words.push_back(word);
  if (synsets_) c.synsets = synsets_(word);
  return c;
}

std::size_t SceneGraph::get_or_add_node(const std::string& word) {
  Concept c = concept_of(word);
  // SceneGraph.getOrAddNode: an equal object concept is reused; otherwise merge into the most similar node
  // (strictly greater similarity wins, so the earliest of equally similar nodes).
  float best = 0.0f;
  std::size_t best_i = nodes_.size();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].object == c) return i;
    float s = c.similarity(nodes_[i].object);
    if (s > best) {
      best = s;
      best_i = i;
    }
  }
  if (merge_ && best_i < nodes_.size()) {
    nodes_[best_i].object.merge(c);  // SceneGraphNode.merge; the new node has no attributes yet
    return best_i;
  }
  nodes_.push_back(Node{std::move(c), {}});
  return nodes_.size() - 1;
}

void SceneGraph::add_object(const std::string& obj) { get_or_add_node(obj); }

void SceneGraph::add_attribute(const std::string& obj, const std::string& attr) {
  std::size_t n = get_or_add_node(obj);
  Concept c = concept_of(attr);
  auto& attrs = nodes_[n].attributes;
  for (const auto& a : attrs)
    if (a == c) return;  // hasAttribute
  if (merge_) {
    for (auto& a : attrs) {
      if (c.similar_to(a)) {
        a.merge(c);
        return;
      }
    }
  }
  attrs.push_back(std::move(c));
}

void SceneGraph::add_relation(const std::string& subj, const std::string& obj, const std::string& rel) {
  std::size_t s = get_or_add_node(subj);
  std::size_t t = get_or_add_node(obj);
  std::string word = rel.rfind("be ", 0) == 0 ? rel.substr(3) : rel;  // replaceAll("^be ", "")
  Concept c = concept_of(word);
  // Edge ends compare as SceneGraphNode.equals (object and attributes); nodes are distinct here, so by index.
  for (const auto& e : edges_)
    if (e.source == s && e.target == t && e.relation == c) return;
  if (merge_) {
    for (auto& e : edges_) {
      if (e.source == s && e.target == t && c.similar_to(e.relation)) {
        e.relation.merge(c);
        return;
      }
    }
  }
  edges_.push_back(Edge{s, t, std::move(c)});
}

void SceneGraph::add_tuple(const RawTuple& t) {
  if (t.size() == 1) {
    add_object(t[0]);
  } else if (t.size() == 2) {
    add_attribute(t[0], t[1]);
  } else if (t.size() == 3) {
    add_relation(t[0], t[1], t[2]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
const char* subset_name(Subset s) {
  switch (s) {
    case Subset::All: return "All";
    case Subset::Object: return "Object";
    case Subset::Attribute: return "Attribute";
    case Subset::Relation: return "Relation";
    case Subset::Cardinality: return "Cardinality";
    case Subset::Color: return "Color";
    case Subset::Size: return "Size";
  }
  return "?";
}

bool subset_accepts(Subset s, const Tuple& t) {
  static const std::unordered_set<std::string> kNumbers = {"one", "two",   "three", "four", "five",
                                                           "six", "seven", "eight", "nine", "ten"};
  static const std::unordered_set<std::string> kColors = {
      "black", "brown", "blue",  "red",   "yellow", "pink",   "gray",   "grey",  "green",
      "dark",  "light", "white", "cream", "orange", "purple", "maroon", "beige", "violet"};
  static const std::unordered_set<std::string> kSizes = {
      "baby", "illimitable", "scrawny", "beefy", "immeasurable", "short", "big", "immense", "sizable", "bony",
      "infinitesimal", "skeletal", "boundless", "lanky", "skimpy", "brawny", "large", "skinny", "broad", "lean",
      "slender", "bulky", "life-size", "slim", "chunky", "limitless", "small", "colossal", "little", "squat",
      "compact", "mammoth", "stocky", "corpulent", "massive", "stout", "cosmic", "meager", "strapping", "cubby",
      "measly", "sturdy", "curvy", "microscopic", "tall", "elfin", "mini", "teensy", "emaciated", "miniature",
      "teeny", "endless", "minuscule", "teeny-tiny", "enormous", "minute", "teeny-weeny", "epic", "narrow", "thick",
      "expansive", "obese", "thickset", "extensive", "outsized", "thin", "fat", "oversize", "tiny", "fleshy",
      "overweight", "titanic", "full-size", "paltry", "towering", "gargantuan", "petite", "trifling", "gaunt",
      "pint-size", "trim", "giant", "plump", "tubby", "gigantic", "pocket-size", "undersized", "grand", "portly",
      "underweight", "great", "pudgy", "unlimited", "heavy", "puny", "vast", "hefty", "rotund", "wee", "huge",
      "scanty", "whopping", "hulking", "scraggy", "wide"};
  auto attr_in = [&](const std::unordered_set<std::string>& list) {
    return t.items.size() == 2 && list.count(t.items[1].to_string()) > 0;
  };
  switch (s) {
    case Subset::All: return true;
    case Subset::Object: return t.items.size() == 1;
    case Subset::Attribute: return t.items.size() == 2;
    case Subset::Relation: return t.items.size() == 3;
    case Subset::Cardinality: return attr_in(kNumbers);
    case Subset::Color: return attr_in(kColors);
    case Subset::Size: return attr_in(kSizes);
  }
  return false;
}

std::vector<Tuple> tuples_of(const SceneGraph& sg, Subset filter) {
  std::vector<Tuple> out;
  auto push = [&](Tuple t) {
    if (subset_accepts(filter, t)) out.push_back(std::move(t));
  };
  for (const auto& n : sg.nodes()) {
    push(Tuple{{n.object}});
    for (const auto& a : n.attributes) push(Tuple{{n.object, a}});
  }
  for (const auto& e : sg.edges()) push(Tuple{{sg.nodes()[e.source].object, e.relation, sg.nodes()[e.target].object}});
  std::sort(out.begin(), out.end(), [](const Tuple& a, const Tuple& b) {
    std::size_t n = std::min(a.items.size(), b.items.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (a.items[i].words != b.items[i].words) return a.items[i].words < b.items[i].words;
    }
    return a.items.size() < b.items.size();
  });
  return out;
}

Evaluation evaluate(const std::vector<Tuple>& cand, const std::vector<Tuple>& ref, bool allow_nan) {
  Evaluation ev;
  ev.num_images = 1;
  for (const auto& c : cand) {
    for (const auto& r : ref) {
      if (c.similar_to(r)) {
        ++ev.tp;
        break;
      }
    }
  }
  ev.fp = static_cast<int>(cand.size()) - ev.tp;
  ev.fn = static_cast<int>(ref.size()) - ev.tp;
  // Evaluation.calcFScore (beta 1).
  int ref_n = ev.fn + ev.tp;
  int test_n = ev.fp + ev.tp;
  if (ref_n > 0) {
    ev.re = static_cast<double>(ev.tp) / ref_n;
    if (test_n > 0) ev.pr = static_cast<double>(ev.tp) / test_n;
    if (ev.pr > 0 && ev.re > 0) ev.f = 2.0 * (ev.pr * ev.re) / (ev.pr + ev.re);
  }
  if (allow_nan && ref_n == 0) ev.f = ev.pr = ev.re = std::numeric_limits<double>::quiet_NaN();
  return ev;
}

std::vector<Evaluation> score_image(const SceneGraph& cand, const SceneGraph& ref) {
  std::vector<Evaluation> out;
  for (Subset s : kSubsets) out.push_back(evaluate(tuples_of(cand, s), tuples_of(ref, s), s != Subset::All));
  return out;
}

Evaluation macro_average(const std::vector<Evaluation>& per_image) {
  Evaluation r;
  int count = 0;
  for (const auto& s : per_image) {
    r.tp += s.tp;
    r.fp += s.fp;
    r.fn += s.fn;
    if (!std::isnan(s.f) && !std::isnan(s.pr) && !std::isnan(s.re)) {
      r.f += s.f;
      r.pr += s.pr;
      r.re += s.re;
      ++count;
    }
  }
  if (count > 0) {
    r.f /= count;
    r.pr /= count;
    r.re /= count;
  } else {
    r.f = r.pr = r.re = std::numeric_limits<double>::quiet_NaN();
  }
  r.num_images = count;
  return r;
}

}  // namespace glamm::spice
