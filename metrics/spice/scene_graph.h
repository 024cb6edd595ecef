// SPICE's scene graph, tuple sets, synonym matching and F scores, everything SPICE does after the parse.
// Reimplements peteanderson80/SPICE (spice-1.0) SemanticConcept, SceneGraphNode, SceneGraphRelation, SceneGraph,
// SemanticTuple, TupleSet, TupleFilter and Evaluation; see specs/caption-metrics.md §6.
// One deliberate difference: Java iterates nodes and attributes in identity-hash order (not repeatable); here
// they are iterated in insertion order, so ties in concept merging go to the earliest node and results are
// deterministic.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace glamm::meteor {
struct Resources;
}

namespace glamm::spice {

/// Word → synset ids (sorted, unique). SPICE's SceneGraph.getSynSets: the word trimmed, lowercased, spaces → '_',
/// then METEOR's SynonymDictionary getSynSets ∪ getStemSynSets.
using SynsetLookup = std::function<std::vector<int>(const std::string& word)>;

/// SynsetLookup over METEOR's loaded english.synsets / english.exceptions (and SynonymDictionary.morph for words
/// without an exception entry). The resources must outlive nothing: the shared_ptr is kept. Thread-safe.
SynsetLookup meteor_synsets(std::shared_ptr<const meteor::Resources> res);

/// A SPICE SemanticConcept: a set of words (lemmas or phrases) and a set of synset ids (both sorted, unique).
struct Concept {
  std::vector<std::string> words;
  std::vector<int> synsets;

  bool operator==(const Concept& o) const { return words == o.words && synsets == o.synsets; }
  /// SemanticConcept.similarTo: share a synset or a word.
  bool similar_to(const Concept& o) const;
  /// SemanticConcept.similarity: 1 if a word is shared, else |synsets ∩| / |synsets ∪| (0 when both empty).
  float similarity(const Concept& o) const;
  /// SemanticConcept.merge: union of words and synsets.
  void merge(const Concept& o);
  /// SemanticConcept.toString: the words joined by "/" (sorted here).
  std::string to_string() const;
};

/// One tuple (arity 1 object, 2 object–attribute, 3 source–relation–target).
struct Tuple {
  std::vector<Concept> items;
  /// SemanticTuple.similarTo: same arity and every position similar.
  bool similar_to(const Tuple& o) const;
  std::string to_string() const;  ///< "(a,b,c)"
};

/// A parsed caption's tuples as word lists (size 1, 2 or 3; a 3-tuple is (subject, object, predicate) as SPICE's
/// parser emits it, i.e. SceneGraph.addTuple order).
using RawTuple = std::vector<std::string>;

/// SPICE's scene graph with concept merging (allowConceptMerging = true, SPICE's default with -synsets on).
class SceneGraph {
 public:
  explicit SceneGraph(SynsetLookup synsets, bool merge_concepts = true);

  /// SceneGraph.addObject.
  void add_object(const std::string& obj);
  /// SceneGraph.addAttribute: the object node (getOrAddNode), then mergeAttribute (exact duplicate ignored; merged
  /// into the first similar attribute; else added).
  void add_attribute(const std::string& obj, const std::string& attr);
  /// SceneGraph.addRelation(obj1, obj2, rel): leading "be " removed from rel; exact duplicate ignored; merged into
  /// the first relation with the same end nodes and a similar relation concept; else added.
  void add_relation(const std::string& subj, const std::string& obj, const std::string& rel);
  /// SceneGraph.addTuple: size 1 object, 2 attribute, 3 relation (subject, object, predicate); others ignored.
  void add_tuple(const RawTuple& t);

  struct Node {
    Concept object;
    std::vector<Concept> attributes;
  };
  struct Edge {
    std::size_t source, target;
    Concept relation;
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Edge>& edges() const { return edges_; }

 private:
  Concept concept_of(const std::string& word) const;
  std::size_t get_or_add_node(const std::string& word);

  SynsetLookup synsets_;
  bool merge_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
};

/// Tuple categories of SPICE's -subset output (TupleFilter).
enum class Subset { All, Object, Attribute, Relation, Cardinality, Color, Size };
constexpr Subset kSubsets[] = {Subset::All,         Subset::Object, Subset::Attribute, Subset::Relation,
                               Subset::Cardinality, Subset::Color,  Subset::Size};
/// SPICE's key for a subset: "All", "Object", "Attribute", "Relation", "Cardinality", "Color", "Size".
const char* subset_name(Subset s);
/// TupleFilter.operation for the subset (Cardinality/Color/Size: arity 2 whose attribute's toString is in SPICE's
/// word list of one..ten, 18 colours, 105 size adjectives).
bool subset_accepts(Subset s, const Tuple& t);

/// TupleSet(sg, filter): per node its object tuple then its attribute tuples, then the relation tuples; sorted by
/// the concepts' sorted words.
std::vector<Tuple> tuples_of(const SceneGraph& sg, Subset filter = Subset::All);

/// SPICE's Evaluation of one image (or a macro average).
struct Evaluation {
  double f = 0, pr = 0, re = 0;  ///< NaN for a subset with no reference tuple (allowNaN)
  int tp = 0, fp = 0, fn = 0;
  int num_images = 0;
};

/// Evaluation(candidates, references, allowNan, useSynsets=true): TP = candidate tuples similar to any reference
/// tuple (reference tuples may be reused), FP = |cand| − TP, FN = |ref| − TP; P, R, F1 as Evaluation.calcFScore
/// (0 when P or R is 0; with allow_nan all three are NaN when there is no reference tuple).
Evaluation evaluate(const std::vector<Tuple>& cand, const std::vector<Tuple>& ref, bool allow_nan);

/// SpiceStats.score for one image: "All" (allowNaN off) and the six subsets (allowNaN on), in kSubsets order.
std::vector<Evaluation> score_image(const SceneGraph& cand, const SceneGraph& ref);

/// SpiceStats.macroAverage: sums tp/fp/fn; averages f/pr/re over the images where none is NaN (NaN if none).
Evaluation macro_average(const std::vector<Evaluation>& per_image);

}  // namespace glamm::spice
