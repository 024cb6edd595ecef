// A small JFlex-style regular-expression engine over UTF-16 code units: a parser for the subset of JFlex syntax the
// PTB lexer rules use (macros, character classes with [:letter:]/[:digit:]/[:uppercase:], repetition, %caseless
// literals), Thompson NFAs and subset-constructed DFAs sharing one character-class map. Longest match with
// rule-order priority, as JFlex 1.5.1 scanners behave, is implemented by the scanner on top of these DFAs.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace glamm::ptb::detail {

/// A set of UTF-16 code units (0..0xFFFF) as sorted, disjoint, non-adjacent inclusive ranges.
struct CharSet {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;

  void add(uint32_t lo, uint32_t hi) { ranges.emplace_back(lo, hi); }
  void add(uint32_t c) { ranges.emplace_back(c, c); }
  void add(const CharSet& o) { ranges.insert(ranges.end(), o.ranges.begin(), o.ranges.end()); }
  /// Sort and merge ranges; call after a series of add().
  void normalize();
  /// The complement within 0..0xFFFF (the set must be normalized).
  CharSet complement() const;
  bool contains(uint32_t c) const;
};

/// Regular-expression syntax tree.
struct Node;
using NodePtr = std::shared_ptr<const Node>;
struct Node {
  enum Kind { kSet, kCat, kAlt, kStar, kPlus, kOpt, kRepeat, kEmpty } kind = kEmpty;
  int set_id = -1;               ///< kSet: index into the compiler's set table
  std::vector<NodePtr> kids;     ///< kCat/kAlt: operands; postfix kinds: one operand
  int min = 0, max = 0;          ///< kRepeat: {min,max}
};

/// Parses JFlex-like patterns with named macros. `caseless` makes single characters and strings outside
/// character classes match both cases (JFlex %caseless); classes are left as written.
class PatternCompiler {
 public:
  explicit PatternCompiler(bool caseless);

  /// Define macro NAME (used as {NAME}); parsed lazily on first use. Throws std::logic_error on redefinition.
  void define(const std::string& name, std::string pattern);
  /// Parse one pattern. Throws std::logic_error naming the pattern on a syntax error or an unknown macro.
  NodePtr parse(std::string_view pattern);

  const std::vector<CharSet>& sets() const { return sets_; }

 private:
  struct Parser;
  int intern_set(CharSet s);
  NodePtr macro(const std::string& name);

  bool caseless_;
  std::map<std::string, std::string> macro_src_;
  std::map<std::string, NodePtr> macro_ast_;
  std::vector<std::string> expanding_;
  std::vector<CharSet> sets_;
  std::map<std::vector<std::pair<uint32_t, uint32_t>>, int> set_ids_;
};

/// A deterministic automaton over character classes, built lazily: a transition is computed (subset construction
/// from the NFA, under a mutex) the first time it is taken, so start-up is cheap and only the states the input
/// needs ever exist. Safe to step from several threads at once; results never depend on the order of construction.
class Dfa {
 public:
  static constexpr int kStart = 0;

  Dfa();
  ~Dfa();
  Dfa(Dfa&&) noexcept;
  Dfa& operator=(Dfa&&) noexcept;

  /// Next state after a character of class `cls`, or -1 when no pattern can continue.
  int step(int state, int cls) const {
    int32_t v = row(state)[cls].load(std::memory_order_acquire);
    return v != kUnknown ? v : compute(state, cls);
  }
  /// Lowest-numbered alternative accepted in `state`, or -1.
  int accept(int state) const { return row(state)[classes_].load(std::memory_order_relaxed); }
  /// Number of states built so far.
  size_t states() const;

  struct Impl;  ///< construction state (NFA, kernels, mutex); defined in regex_automaton.cpp

 private:
  friend class AutomatonBuilder;
  static constexpr int32_t kUnknown = -2;
  static constexpr int kBlockBits = 6;       ///< 64 states per block of transition rows
  static constexpr size_t kMaxBlocks = 2048;  ///< up to 131,072 states (the full subset construction has < 5,000)

  const std::atomic<int32_t>* row(int state) const {
    const std::atomic<int32_t>* block = blocks_[static_cast<size_t>(state) >> kBlockBits].load(std::memory_order_acquire);
    return block + (static_cast<size_t>(state) & ((1u << kBlockBits) - 1)) * static_cast<size_t>(classes_ + 1);
  }
  int compute(int state, int cls) const;

  int classes_ = 0;
  std::unique_ptr<std::atomic<const std::atomic<int32_t>*>[]> blocks_;
  std::unique_ptr<Impl> impl_;
};

/// Partitions the code units into classes that no set of `sets` distinguishes, and builds DFAs from syntax trees.
class AutomatonBuilder {
 public:
  explicit AutomatonBuilder(const std::vector<CharSet>& sets);

  /// The class of every code unit 0..0xFFFF.
  const std::vector<uint16_t>& class_map() const { return cmap_; }
  int class_count() const { return class_count_; }

  /// DFA accepting the union of `alternatives`; accept values are alternative indices (lowest wins on ties).
  Dfa build(const std::vector<NodePtr>& alternatives) const;
  /// For set id `sid`: bit c of word c/64 is set when class c lies in the set.
  const std::vector<std::vector<uint64_t>>& set_bits() const { return set_bits_; }

 private:
  std::vector<uint16_t> cmap_;
  int class_count_ = 0;
  std::vector<std::vector<uint64_t>> set_bits_;  ///< per set id: bitset of the classes it contains
};

}  // namespace glamm::ptb::detail
