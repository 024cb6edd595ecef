// Safe unpickler: REFER-style data in every protocol, torch.save state dicts, and rejection of anything else.
// Fixtures are small pickles written for these tests (hex below), not copies of real files.
#include <malloc.h>

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/pickle.h"

using glamm::pickle::loads;
using glamm::pickle::PickleError;
using glamm::pickle::Value;
using namespace std::string_literals;

namespace {
std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t k = 0; k + 1 < h.size(); k += 2) out += static_cast<char>(std::stoi(h.substr(k, 2), nullptr, 16));
  return out;
}

// [{'ref_id': 5, 'split': 'val', 'sentences': [{'sent': 'the man', 'sent_id': 7, 'tokens': ['the', 'man']}],
//   'ann_id': 1234567890123, 'score': 0.5, 'flag': True, 'none': None, 'raw': b'\x00\xff'}]
const char* kRefsP0 =
    "286c70300a286470310a567265665f69640a70320a49350a735673706c69740a70330a5676616c0a70340a735673656e74656e6365730a"
    "70350a286c70360a286470370a5673656e740a70380a56746865206d616e0a70390a735673656e745f69640a7031300a49370a7356746f"
    "6b656e730a7031310a286c7031320a567468650a7031330a61566d616e0a7031340a6173617356616e6e5f69640a7031350a4c313233343"
    "536373839303132334c0a735673636f72650a7031360a46302e350a7356666c61670a7031370a4930310a73566e6f6e650a7031380a4e73"
    "567261770a7031390a635f636f646563730a656e636f64650a7032300a28565c7530303030ff0a7032310a566c6174696e310a7032320a"
    "747032330a527032340a73612e";
const char* kRefsP2 =
    "80025d71007d71012858060000007265665f696471024b05580500000073706c69747103580300000076616c7104580900000073656e7465"
    "6e63657371055d71067d710728580400000073656e7471085807000000746865206d616e7109580700000073656e745f6964710a4b075806"
    "000000746f6b656e73710b5d710c285803000000746865710d58030000006d616e710e6575615806000000616e6e5f6964710f8a06cb04fb"
    "711f01580500000073636f72657110473fe00000000000005804000000666c616771118858040000006e6f6e6571124e5803000000726177"
    "7113635f636f646563730a656e636f64650a7114580300000000c3bf711558060000006c6174696e31711686711752711875612e";
const char* kRefsP5 =
    "800595a7000000000000005d947d94288c067265665f6964944b058c0573706c6974948c0376616c948c0973656e74656e636573945d947d"
    "94288c0473656e74948c07746865206d616e948c0773656e745f6964944b078c06746f6b656e73945d94288c03746865948c036d616e9465"
    "75618c06616e6e5f6964948a06cb04fb711f018c0573636f726594473fe00000000000008c04666c616794888c046e6f6e65944e8c037261"
    "7794430200ff9475612e";

void expect_refs(const Value& v) {
  ASSERT_EQ(v.kind, Value::Kind::kList);
  ASSERT_EQ(v.items.size(), 1u);
  const Value& r = *v.items[0];
  EXPECT_EQ(r.get("ref_id")->as_int(), 5);
  EXPECT_EQ(r.get("split")->text(), "val");
  EXPECT_EQ(r.get("ann_id")->as_int(), 1234567890123LL);
  EXPECT_EQ(r.get("score")->as_number(), 0.5);
  EXPECT_EQ(r.get("flag")->kind, Value::Kind::kBool);
  EXPECT_TRUE(r.get("flag")->b);
  EXPECT_EQ(r.get("none")->kind, Value::Kind::kNone);
  EXPECT_EQ(r.get("raw")->kind, Value::Kind::kBytes);
  EXPECT_EQ(r.get("raw")->s, std::string("\x00\xff", 2));
  const Value& sent = *r.get("sentences")->items.at(0);
  EXPECT_EQ(sent.get("sent")->text(), "the man");
  EXPECT_EQ(sent.get("sent_id")->as_int(), 7);
  ASSERT_EQ(sent.get("tokens")->items.size(), 2u);
  EXPECT_EQ(sent.get("tokens")->items[1]->text(), "man");
}
}  // namespace

TEST(Unpickler, ReadsProtocol0TextOpcodes) { expect_refs(*loads(unhex(kRefsP0))); }
TEST(Unpickler, ReadsProtocol2BinaryOpcodesAndMemo) { expect_refs(*loads(unhex(kRefsP2))); }
TEST(Unpickler, ReadsProtocol5Frames) { expect_refs(*loads(unhex(kRefsP5))); }

TEST(Unpickler, ReadsPython2ByteStrings) {
  // What Python 2 cPickle protocol 0 writes for [{'split': 'val', 'ann_id': 1234567890123L}]
  auto v = loads("(lp0\n(dp1\nS'split'\np2\nS'val'\np3\nsS'ann_id'\np4\nL1234567890123L\nsa.");
  const Value& r = *v->items.at(0);
  EXPECT_EQ(r.get("split")->text(), "val");
  EXPECT_TRUE(r.get("split")->py2_str);
  EXPECT_EQ(r.get("ann_id")->as_int(), 1234567890123LL);
}

TEST(Unpickler, ReadsTorchSaveStateDict) {
  // OrderedDict([('layer.weight', float32 2x3 at storage '0'), ('layer.bias', bfloat16 [3] at storage '1'
  // offset 1)]) with a _metadata attribute, as torch.save(protocol=2) lays it out.
  const char* hex =
      "800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128580c0000006c617965722e7765696768747102637"
      "46f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263"
      "680a466c6f617453746f726167650a71055801000000307106580300000063707571074b06747108514b004b024b038671094b034b0186"
      "710a8968002952710b74710c52710d580a0000006c617965722e62696173710e68032828680463746f7263680a42466c6f617431365374"
      "6f726167650a710f580100000031711068074b04747111514b014b038571124b0185711389680029527114747115527116757d71175809"
      "0000005f6d6574616461746171186800295271195800000000711a7d711b580700000076657273696f6e711c4b01737373622e";
  auto v = loads(unhex(hex));
  ASSERT_EQ(v->kind, Value::Kind::kDict);
  ASSERT_EQ(v->dict.size(), 2u);
  const Value* w = v->get("layer.weight");
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(w->kind, Value::Kind::kTensor);
  EXPECT_EQ(w->tensor.storage_key, "0");
  EXPECT_EQ(w->tensor.dtype, glamm::pickle::StorageDtype::kFloat32);
  EXPECT_EQ(w->tensor.storage_numel, 6);
  EXPECT_EQ(w->tensor.size, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->tensor.stride, (std::vector<int64_t>{3, 1}));
  const Value* b = v->get("layer.bias");
  EXPECT_EQ(b->tensor.dtype, glamm::pickle::StorageDtype::kBFloat16);
  EXPECT_EQ(b->tensor.offset, 1);
  EXPECT_EQ(v->attrs.size(), 1u);  // _metadata
}

TEST(Unpickler, RejectsArbitraryGlobals) {
  // pickle.dumps(os.system, protocol=2)
  EXPECT_THROW(loads(unhex("800263706f7369780a73797374656d0a71002e")), PickleError);
  try {
    loads(unhex("800263706f7369780a73797374656d0a71002e"));
  } catch (const PickleError& e) {
    EXPECT_NE(std::string(e.what()).find("posix.system"), std::string::npos);
  }
}

TEST(Unpickler, RejectsTruncatedAndMalformedInput) {
  const std::string p2 = unhex(kRefsP2);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{10}, p2.size() / 2, p2.size() - 1})
    EXPECT_THROW(loads(p2.substr(0, n)), PickleError) << n;
  EXPECT_THROW(loads("a."), PickleError);          // APPEND on an empty stack
  EXPECT_THROW(loads("h\x05."), PickleError);      // memo entry not defined
  EXPECT_THROW(loads("I12x\n."), PickleError);     // bad integer
  EXPECT_THROW(loads("K\x01K\x02."), PickleError); // two values left at STOP
}

namespace {
// Protocol 2: `levels` nested empty lists, each appended into the one before ([[[...]]]).
std::string nested_lists(std::size_t levels) {
  return std::string("\x80\x02") + std::string(levels, ']') + std::string(levels - 1, 'a') + ".";
}
std::string pickle_error(const std::string& data) {
  try {
    loads(data);
  } catch (const PickleError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Unpickler, DeepNestingIsRefusedWithoutCrashing) {
  // 200,000 levels crashed the reader when the tree was freed (recursive destructors).
  for (std::size_t levels : {std::size_t{200000}, std::size_t{100000}, glamm::pickle::kMaxDepth + 1}) {
    const std::string m = pickle_error(nested_lists(levels));
    EXPECT_NE(m.find("nested deeper than 10000 levels"), std::string::npos) << levels << ": " << m;
  }
  // The cap itself is accepted, and the tree has the expected shape.
  auto v = loads(nested_lists(glamm::pickle::kMaxDepth));
  std::size_t depth = 0;
  for (const Value* p = v.get(); p; p = p->items.empty() ? nullptr : p->items[0].get()) ++depth;
  EXPECT_EQ(depth, glamm::pickle::kMaxDepth);
}

TEST(Unpickler, DepthCountsSharedSubtreesThroughTheMemo) {
  // ]q\x00 (memo 0 = inner list, 1 level) then 10000 more lists, each appended into the one before, with the
  // memoized list appended at the bottom: 10001 levels through a memo reference.
  const std::size_t n = glamm::pickle::kMaxDepth;
  const std::string memo0 = "]q\x00"s, get0 = "h\x00"s;
  std::string p = "\x80\x02"s + memo0 + "0" + std::string(n, ']') + get0 + std::string(n, 'a') + ".";
  EXPECT_NE(pickle_error(p).find("nested deeper"), std::string::npos);
  p = "\x80\x02"s + memo0 + "0" + std::string(n - 1, ']') + get0 + std::string(n - 1, 'a') + ".";
  EXPECT_EQ(pickle_error(p), "");
}

TEST(Unpickler, ReferenceCyclesAreRefused) {
  // A list appended into itself through the memo: l = []; l.append(l)
  const std::string m = pickle_error("\x80\x02]q\x00h\x00" "a."s);
  EXPECT_NE(m.find("reference cycle"), std::string::npos) << m;
}

// Found by the readers' fuzz test (LeakSanitizer): a reference cycle that is not the result (popped off the stack,
// left in the memo, or built before the pickle turned out to be broken) kept its shared pointers alive, so every
// such pickle leaked its cyclic values. The heap must not grow over many of them.
TEST(Unpickler, ReferenceCyclesOutsideTheResultAreFreed) {
  const std::string popped = "\x80\x02]2a0N."s;                 // l = []; l.append(l); pop; result None
  const std::string memo = "\x80\x02]q\x00h\x00" "a0N."s;       // the same through the memo
  const std::string broken = "\x80\x02]q\x00h\x00" "a"s;        // a cycle, then no STOP
  EXPECT_EQ(loads(popped)->kind, Value::Kind::kNone);
  EXPECT_EQ(loads(memo)->kind, Value::Kind::kNone);
  EXPECT_NE(pickle_error(broken).find("no STOP opcode"), std::string::npos) << pickle_error(broken);
  auto used = [] { return mallinfo2().uordblks; };
  for (int k = 0; k < 100; ++k) (void)pickle_error(broken);  // warm up the allocator
  const std::size_t before = used();
  for (int k = 0; k < 20000; ++k) {
    (void)loads(popped);
    (void)loads(memo);
    (void)pickle_error(broken);
  }
  EXPECT_LT(used(), before + 256 * 1024) << "heap grew from " << before << " to " << used() << " bytes";
}

TEST(Unpickler, FreeingADeepTreeUsesNoRecursion) {
  // Built by hand, 1,000,000 levels: the destructor must not recurse (it crashed at ~100,000 before).
  auto root = std::make_shared<Value>();
  root->kind = Value::Kind::kList;
  Value* p = root.get();
  for (int k = 0; k < 1000000; ++k) {
    auto c = std::make_shared<Value>();
    c->kind = k % 2 ? Value::Kind::kList : Value::Kind::kDict;
    if (p->kind == Value::Kind::kDict)
      p->dict.emplace_back(std::make_shared<Value>(), c);
    else
      p->items.push_back(c);
    p = c.get();
  }
  root.reset();
  SUCCEED();
}
