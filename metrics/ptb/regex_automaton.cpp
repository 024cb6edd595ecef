// JFlex-subset regex parser, Thompson NFA and subset construction (see regex_automaton.h).
#include "metrics/ptb/regex_automaton.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace {
struct VecHash {
  size_t operator()(const std::vector<int>& v) const {
    uint64_t h = 1469598103934665603ull;
    for (int x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};
}  // namespace

#include "metrics/ptb/unicode_props.h"

namespace glamm::ptb::detail {

// ---------------------------------------------------------------------------------------------------------------
// CharSet
// ---------------------------------------------------------------------------------------------------------------

void CharSet::normalize() {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& r : ranges) {
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  ranges.swap(out);
}

CharSet CharSet::complement() const {
  CharSet c;
  uint32_t next = 0;
  for (const auto& r : ranges) {
    if (r.first > next) c.add(next, r.first - 1);
    next = r.second + 1;
  }
  if (next <= 0xFFFF) c.add(next, 0xFFFF);
  return c;
}

bool CharSet::contains(uint32_t c) const {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), std::make_pair(c, UINT32_MAX));
  return it != ranges.begin() && std::prev(it)->second >= c;
}

// ---------------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------------

namespace {

NodePtr make(Node::Kind k, std::vector<NodePtr> kids = {}) {
  auto n = std::make_shared<Node>();
  n->kind = k;
  n->kids = std::move(kids);
  return n;
}

CharSet compute_predefined(const std::string& name) {
  CharSet s;
  bool (*pred)(uint32_t) = nullptr;
  if (name == "letter") pred = &jflex_letter;
  else if (name == "digit") pred = &jflex_digit;
  else if (name == "uppercase") pred = &jflex_uppercase;
  else throw std::logic_error("unknown predefined class [:" + name + ":]");
  uint32_t c = 0;
  while (c <= 0xFFFF) {
    if (!pred(c)) { ++c; continue; }
    uint32_t lo = c;
    while (c <= 0xFFFF && pred(c)) ++c;
    s.add(lo, c - 1);
  }
  return s;
}

CharSet predefined(const std::string& name) {
  static const std::map<std::string, CharSet> cache = [] {
    std::map<std::string, CharSet> m;
    for (const char* k : {"letter", "digit", "uppercase"}) m[k] = compute_predefined(k);
    return m;
  }();
  auto it = cache.find(name);
  if (it == cache.end()) throw std::logic_error("unknown predefined class [:" + name + ":]");
  return it->second;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

struct PatternCompiler::Parser {
  PatternCompiler& pc;
  std::string_view src;
  size_t i = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::logic_error("pattern error (" + what + ") at offset " + std::to_string(i) + " in: " +
                           std::string(src));
  }
  bool at_end() const { return i >= src.size(); }
  char peek() const { return at_end() ? '\0' : src[i]; }

  // Reads one (possibly escaped) character; the pattern source is ASCII with \uXXXX escapes.
  uint32_t read_char() {
    if (at_end()) fail("unexpected end");
    char c = src[i++];
    if (c != '\\') return static_cast<unsigned char>(c);
    if (at_end()) fail("dangling backslash");
    char e = src[i++];
    switch (e) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'b': return '\b';
      case 'u': {
        if (i + 4 > src.size()) fail("short \\u escape");
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
          char h = src[i++];
          if (!is_hex(h)) fail("bad \\u escape");
          v = v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        return v;
      }
      case 'x': {
        if (i + 2 > src.size()) fail("short \\x escape");
        uint32_t v = 0;
        for (int k = 0; k < 2; ++k) {
          char h = src[i++];
          if (!is_hex(h)) fail("bad \\x escape");
          v = v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        return v;
      }
      case '0': return 0;
      default: return static_cast<unsigned char>(e);
    }
  }

  // If "[:name:]" starts at i, the offset of its ":]"; else 0.
  size_t predefined_end() const {
    if (src.compare(i, 2, "[:") != 0) return 0;
    size_t k = i + 2;
    while (k < src.size() && src[k] >= 'a' && src[k] <= 'z') ++k;
    return (k > i + 2 && src.compare(k, 2, ":]") == 0) ? k : 0;
  }

  NodePtr set_node(CharSet s) {
    s.normalize();
    auto n = std::make_shared<Node>();
    n->kind = Node::kSet;
    n->set_id = pc.intern_set(std::move(s));
    return n;
  }

  // A literal character outside a class: under %caseless it also matches its other cases.
  NodePtr literal(uint32_t c) {
    CharSet s;
    s.add(c);
    if (pc.caseless_) {
      for (uint32_t v : caseless_variants(c)) s.add(v);
    }
    return set_node(std::move(s));
  }

  NodePtr parse_class() {  // after '['
    bool negate = false;
    if (peek() == '^') { negate = true; ++i; }
    CharSet s;
    while (true) {
      if (at_end()) fail("unterminated class");
      if (peek() == ']') { ++i; break; }
      if (size_t end = predefined_end(); end != 0) {
        s.add(predefined(std::string(src.substr(i + 2, end - i - 2))));
        i = end + 2;
        continue;
      }
      uint32_t lo = read_char();
      if (peek() == '-' && i + 1 < src.size() && src[i + 1] != ']') {
        ++i;
        uint32_t hi = read_char();
        if (hi < lo) fail("reversed range");
        s.add(lo, hi);
      } else {
        s.add(lo);
      }
    }
    s.normalize();
    return set_node(negate ? s.complement() : s);
  }

  NodePtr parse_atom() {
    char c = peek();
    if (c == '(') {
      ++i;
      NodePtr n = parse_alt();
      if (peek() != ')') fail("missing )");
      ++i;
      return n;
    }
    if (size_t end = predefined_end(); end != 0) {  // a predefined class such as [:letter:]
      CharSet s = predefined(std::string(src.substr(i + 2, end - i - 2)));
      i = end + 2;
      return set_node(std::move(s));
    }
    if (c == '[') { ++i; return parse_class(); }
    if (c == '{') {
      size_t end = src.find('}', i);
      if (end == std::string_view::npos) fail("unterminated macro");
      std::string name(src.substr(i + 1, end - i - 1));
      i = end + 1;
      return pc.macro(name);
    }
    if (c == '"') {
      ++i;
      std::vector<NodePtr> kids;
      while (peek() != '"') kids.push_back(literal(read_char()));
      ++i;
      return make(Node::kCat, std::move(kids));
    }
    if (c == '.') {
      ++i;
      CharSet s;  // JFlex 1.5: any character but a line terminator
      for (uint32_t t : {0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x85u, 0x2028u, 0x2029u}) s.add(t);
      s.normalize();
      return set_node(s.complement());
    }
    if (c == '|' || c == ')' || c == '*' || c == '+' || c == '?') fail("unexpected operator");
    return literal(read_char());
  }

  NodePtr parse_postfix() {
    NodePtr n = parse_atom();
    while (!at_end()) {
      char c = peek();
      if (c == '*') { ++i; n = make(Node::kStar, {n}); }
      else if (c == '+') { ++i; n = make(Node::kPlus, {n}); }
      else if (c == '?') { ++i; n = make(Node::kOpt, {n}); }
      else if (c == '{' && i + 1 < src.size() && src[i + 1] >= '0' && src[i + 1] <= '9') {
        ++i;
        auto num = [&]() {
          int v = 0;
          if (!(peek() >= '0' && peek() <= '9')) fail("bad repeat count");
          while (peek() >= '0' && peek() <= '9') v = v * 10 + (src[i++] - '0');
          return v;
        };
        int lo = num(), hi = lo;
        if (peek() == ',') { ++i; hi = num(); }
        if (peek() != '}') fail("bad repeat");
        ++i;
        auto r = std::make_shared<Node>();
        r->kind = Node::kRepeat;
        r->kids = {n};
        r->min = lo;
        r->max = hi;
        n = r;
      } else {
        break;
      }
    }
    return n;
  }

  NodePtr parse_cat() {
    std::vector<NodePtr> kids;
    while (!at_end() && peek() != '|' && peek() != ')') kids.push_back(parse_postfix());
    if (kids.size() == 1) return kids[0];
    return make(Node::kCat, std::move(kids));
  }

  NodePtr parse_alt() {
    std::vector<NodePtr> kids{parse_cat()};
    while (peek() == '|') { ++i; kids.push_back(parse_cat()); }
    if (kids.size() == 1) return kids[0];
    return make(Node::kAlt, std::move(kids));
  }
};

PatternCompiler::PatternCompiler(bool caseless) : caseless_(caseless) {}

void PatternCompiler::define(const std::string& name, std::string pattern) {
  if (!macro_src_.emplace(name, std::move(pattern)).second) throw std::logic_error("macro redefined: " + name);
}

NodePtr PatternCompiler::parse(std::string_view pattern) {
  Parser p{*this, pattern};
  NodePtr n = p.parse_alt();
  if (!p.at_end()) p.fail("trailing input");
  return n;
}

NodePtr PatternCompiler::macro(const std::string& name) {
  auto done = macro_ast_.find(name);
  if (done != macro_ast_.end()) return done->second;
  auto src = macro_src_.find(name);
  if (src == macro_src_.end()) throw std::logic_error("unknown macro {" + name + "}");
  if (std::find(expanding_.begin(), expanding_.end(), name) != expanding_.end())
    throw std::logic_error("cyclic macro {" + name + "}");
  expanding_.push_back(name);
  NodePtr n = parse(src->second);
  expanding_.pop_back();
  macro_ast_[name] = n;
  return n;
}

int PatternCompiler::intern_set(CharSet s) {
  auto it = set_ids_.find(s.ranges);
  if (it != set_ids_.end()) return it->second;
  int id = static_cast<int>(sets_.size());
  set_ids_.emplace(s.ranges, id);
  sets_.push_back(std::move(s));
  return id;
}

// ---------------------------------------------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------------------------------------------

AutomatonBuilder::AutomatonBuilder(const std::vector<CharSet>& sets) {
  // Elementary intervals between all range boundaries, then classes = intervals with equal membership.
  std::vector<uint32_t> cuts{0, 0x10000};
  for (const auto& s : sets)
    for (const auto& r : s.ranges) {
      cuts.push_back(r.first);
      cuts.push_back(r.second + 1);
    }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  // Membership signature per interval, built set by set with a sweep.
  size_t n_int = cuts.size() - 1;
  std::vector<std::vector<int>> members(n_int);
  for (size_t sid = 0; sid < sets.size(); ++sid) {
    for (const auto& r : sets[sid].ranges) {
      size_t k = static_cast<size_t>(std::lower_bound(cuts.begin(), cuts.end(), r.first) - cuts.begin());
      for (; k < n_int && cuts[k] <= r.second; ++k) members[k].push_back(static_cast<int>(sid));
    }
  }
  std::map<std::vector<int>, int> class_of;
  std::vector<int> interval_class(n_int);
  for (size_t k = 0; k < n_int; ++k) {
    auto it = class_of.emplace(members[k], static_cast<int>(class_of.size())).first;
    interval_class[k] = it->second;
  }
  class_count_ = static_cast<int>(class_of.size());
  if (class_count_ > 65535) throw std::logic_error("too many character classes");
  cmap_.assign(0x10000, 0);
  for (size_t k = 0; k < n_int; ++k)
    for (uint32_t c = cuts[k]; c < cuts[k + 1]; ++c) cmap_[c] = static_cast<uint16_t>(interval_class[k]);

  const size_t words = (static_cast<size_t>(class_count_) + 63) / 64;
  set_bits_.assign(sets.size(), std::vector<uint64_t>(words, 0));
  for (size_t k = 0; k < n_int; ++k)
    for (int sid : members[k]) {
      auto cls = static_cast<size_t>(interval_class[k]);
      set_bits_[static_cast<size_t>(sid)][cls / 64] |= uint64_t{1} << (cls % 64);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Thompson NFA and subset construction
// ---------------------------------------------------------------------------------------------------------------

namespace {

struct Nfa {
  struct State {
    std::vector<int> eps;
    int set_id = -1;  ///< character edge label, or -1
    int target = -1;  ///< character edge target
    int accept = -1;  ///< alternative index when accepting
  };
  std::vector<State> st;

  int add() {
    st.emplace_back();
    return static_cast<int>(st.size()) - 1;
  }

  // Builds `n` between fresh states; returns {entry, exit}.
  std::pair<int, int> build(const NodePtr& n) {
    switch (n->kind) {
      case Node::kEmpty: {
        int a = add(), b = add();
        st[a].eps.push_back(b);
        return {a, b};
      }
      case Node::kSet: {
        int a = add(), b = add();
        st[a].set_id = n->set_id;
        st[a].target = b;
        return {a, b};
      }
      case Node::kCat: {
        if (n->kids.empty()) return build(make(Node::kEmpty));
        auto first = build(n->kids[0]);
        int exit = first.second;
        for (size_t k = 1; k < n->kids.size(); ++k) {
          auto f = build(n->kids[k]);
          st[exit].eps.push_back(f.first);
          exit = f.second;
        }
        return {first.first, exit};
      }
      case Node::kAlt: {
        int a = add(), b = add();
        for (const auto& k : n->kids) {
          auto f = build(k);
          st[a].eps.push_back(f.first);
          st[f.second].eps.push_back(b);
        }
        return {a, b};
      }
      case Node::kStar:
      case Node::kPlus:
      case Node::kOpt: {
        int a = add(), b = add();
        auto f = build(n->kids[0]);
        st[a].eps.push_back(f.first);
        st[f.second].eps.push_back(b);
        if (n->kind != Node::kPlus) st[a].eps.push_back(b);
        if (n->kind != Node::kOpt) st[f.second].eps.push_back(f.first);
        return {a, b};
      }
      case Node::kRepeat: {
        int a = add();
        int exit = a;
        std::vector<int> optional_exits;
        for (int k = 0; k < n->max; ++k) {
          if (k >= n->min) optional_exits.push_back(exit);
          auto f = build(n->kids[0]);
          st[exit].eps.push_back(f.first);
          exit = f.second;
        }
        for (int e : optional_exits) st[e].eps.push_back(exit);
        return {a, exit};
      }
    }
    throw std::logic_error("bad node");
  }
};

}  // namespace

struct Dfa::Impl {
  Nfa nfa;
  std::vector<std::vector<uint64_t>> set_bits;
  std::vector<std::vector<int>> kernels;
  std::unordered_map<std::vector<int>, int, VecHash> ids;
  std::vector<std::unique_ptr<std::atomic<int32_t>[]>> owned;
  std::vector<uint32_t> stamp;
  uint32_t gen = 0;
  std::vector<int> stack, seeds, kernel;
  std::mutex mu;

  // Epsilon closure of `from`, restricted to "important" states (character edge or accepting), sorted.
  void closure(const std::vector<int>& from, std::vector<int>& out) {
    ++gen;
    out.clear();
    stack.assign(from.begin(), from.end());
    for (int s : from) stamp[static_cast<size_t>(s)] = gen;
    while (!stack.empty()) {
      int u = stack.back();
      stack.pop_back();
      const auto& su = nfa.st[static_cast<size_t>(u)];
      if (su.set_id >= 0 || su.accept >= 0) out.push_back(u);
      for (int v : su.eps)
        if (stamp[static_cast<size_t>(v)] != gen) {
          stamp[static_cast<size_t>(v)] = gen;
          stack.push_back(v);
        }
    }
    std::sort(out.begin(), out.end());
  }
};

Dfa::Dfa() = default;
Dfa::~Dfa() = default;
Dfa::Dfa(Dfa&&) noexcept = default;
Dfa& Dfa::operator=(Dfa&&) noexcept = default;

size_t Dfa::states() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->kernels.size();
}

namespace {

// The id of the DFA state for `kernel`, creating it (row of unknown transitions + accept value) when new.
// Called with the mutex held.
int intern_state(Dfa::Impl& im, std::atomic<const std::atomic<int32_t>*>* blocks, int classes, int32_t unknown,
                 int block_bits, size_t max_blocks, const std::vector<int>& kernel) {
  auto it = im.ids.find(kernel);
  if (it != im.ids.end()) return it->second;
  const size_t id = im.kernels.size();
  const size_t per_block = size_t{1} << block_bits;
  const size_t row = static_cast<size_t>(classes) + 1;
  if (id % per_block == 0) {
    if (id / per_block >= max_blocks) throw std::logic_error("PTB lexer automaton too large");
    auto block = std::make_unique<std::atomic<int32_t>[]>(per_block * row);
    for (size_t k = 0; k < per_block * row; ++k) block[k].store(unknown, std::memory_order_relaxed);
    blocks[id / per_block].store(block.get(), std::memory_order_release);
    im.owned.push_back(std::move(block));
  }
  int acc = -1;
  for (int u : kernel) {
    int a = im.nfa.st[static_cast<size_t>(u)].accept;
    if (a >= 0 && (acc < 0 || a < acc)) acc = a;
  }
  im.owned[id / per_block][(id % per_block) * row + static_cast<size_t>(classes)].store(acc, std::memory_order_relaxed);
  im.kernels.push_back(kernel);
  im.ids.emplace(kernel, static_cast<int>(id));
  return static_cast<int>(id);
}

}  // namespace

int Dfa::compute(int state, int cls) const {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mu);
  const size_t per_block = size_t{1} << kBlockBits;
  const size_t row = static_cast<size_t>(classes_) + 1;
  std::atomic<int32_t>& slot =
      im.owned[static_cast<size_t>(state) / per_block][(static_cast<size_t>(state) % per_block) * row +
                                                       static_cast<size_t>(cls)];
  int32_t known = slot.load(std::memory_order_acquire);
  if (known != kUnknown) return known;
  im.seeds.clear();
  const uint64_t bit = uint64_t{1} << (static_cast<unsigned>(cls) % 64);
  const size_t word = static_cast<size_t>(cls) / 64;
  for (int u : im.kernels[static_cast<size_t>(state)]) {
    const auto& su = im.nfa.st[static_cast<size_t>(u)];
    if (su.set_id >= 0 && (im.set_bits[static_cast<size_t>(su.set_id)][word] & bit)) im.seeds.push_back(su.target);
  }
  int32_t to = -1;
  if (!im.seeds.empty()) {
    im.closure(im.seeds, im.kernel);
    to = intern_state(im, blocks_.get(), classes_, kUnknown, kBlockBits, kMaxBlocks, im.kernel);
  }
  slot.store(to, std::memory_order_release);
  return to;
}

Dfa AutomatonBuilder::build(const std::vector<NodePtr>& alternatives) const {
  Dfa dfa;
  dfa.classes_ = class_count_;
  dfa.blocks_ = std::make_unique<std::atomic<const std::atomic<int32_t>*>[]>(Dfa::kMaxBlocks);
  for (size_t k = 0; k < Dfa::kMaxBlocks; ++k) dfa.blocks_[k].store(nullptr, std::memory_order_relaxed);
  dfa.impl_ = std::make_unique<Dfa::Impl>();
  Dfa::Impl& im = *dfa.impl_;
  int start = im.nfa.add();
  for (size_t k = 0; k < alternatives.size(); ++k) {
    auto f = im.nfa.build(alternatives[k]);
    im.nfa.st[static_cast<size_t>(start)].eps.push_back(f.first);
    im.nfa.st[static_cast<size_t>(f.second)].accept = static_cast<int>(k);
  }
  im.set_bits = set_bits_;
  im.stamp.assign(im.nfa.st.size(), 0);
  im.closure({start}, im.kernel);
  intern_state(im, dfa.blocks_.get(), dfa.classes_, Dfa::kUnknown, Dfa::kBlockBits, Dfa::kMaxBlocks, im.kernel);
  return dfa;
}

}  // namespace glamm::ptb::detail
