// SentencePieceBpe on tiny hand-made models (serialized ModelProto written here): merge order by score and
// position, frozen user-defined pieces, re-split UNUSED pieces, byte fallback, the dummy prefix in decode, and
// parse errors. Behaviour follows sentencepiece 0.1.97 (bpe_model.cc, sentencepiece_processor.cc).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "model/llama_tokenizer_spm.h"

using glamm::model::SentencePieceBpe;
using Strings = std::vector<std::string>;

namespace {

// Protobuf wire-format writer, enough for a ModelProto.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void tag(std::string& out, uint32_t field, uint32_t wire_type) { varint(out, (field << 3) | wire_type); }
void bytes_field(std::string& out, uint32_t field, const std::string& b) {
  tag(out, field, 2);
  varint(out, b.size());
  out += b;
}
void varint_field(std::string& out, uint32_t field, uint64_t v) {
  tag(out, field, 0);
  varint(out, v);
}

struct P {
  std::string text;
  float score;
  int type;  // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
};

struct ModelSpec {
  std::vector<P> pieces;
  int model_type = 2;
  bool byte_fallback = true;
  bool add_dummy_prefix = false;
  bool set_remove_extra_whitespaces = true;  // write remove_extra_whitespaces=false (the proto default is true)
  std::string charsmap;
};

std::string serialize(const ModelSpec& spec) {
  std::string out;
  for (const auto& p : spec.pieces) {
    std::string m;
    bytes_field(m, 1, p.text);
    tag(m, 2, 5);
    uint32_t bits;
    std::memcpy(&bits, &p.score, 4);
    for (int k = 0; k < 4; ++k) m.push_back(static_cast<char>((bits >> (8 * k)) & 0xFF));
    varint_field(m, 3, static_cast<uint64_t>(p.type));
    bytes_field(out, 1, m);
  }
  std::string trainer;
  varint_field(trainer, 3, static_cast<uint64_t>(spec.model_type));
  varint_field(trainer, 35, spec.byte_fallback ? 1 : 0);
  bytes_field(out, 2, trainer);
  std::string norm;
  bytes_field(norm, 1, "identity");
  if (!spec.charsmap.empty()) bytes_field(norm, 2, spec.charsmap);
  varint_field(norm, 3, spec.add_dummy_prefix ? 1 : 0);
  if (spec.set_remove_extra_whitespaces) varint_field(norm, 4, 0);
  bytes_field(out, 3, norm);
  return out;
}

/// <unk>, <s>, </s>, the 256 byte pieces, then `normal`.
ModelSpec with_pieces(const std::vector<P>& normal) {
  ModelSpec s;
  s.pieces = {{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    s.pieces.push_back({buf, 0, 6});
  }
  s.pieces.insert(s.pieces.end(), normal.begin(), normal.end());
  return s;
}

SentencePieceBpe make(const std::vector<P>& normal, bool dummy_prefix = false) {
  ModelSpec s = with_pieces(normal);
  s.add_dummy_prefix = dummy_prefix;
  return SentencePieceBpe::parse(serialize(s), "test.model");
}

const std::string kSp = "\xE2\x96\x81";  // ▁

}  // namespace

TEST(SentencePieceBpe, HighestScoreMergesFirst) {
  const auto m = make({{"a", -5, 1}, {"b", -5, 1}, {"c", -5, 1}, {"ab", -2, 1}, {"bc", -1, 1}});
  EXPECT_EQ(m.encode("abc"), (Strings{"a", "bc"}));
}

TEST(SentencePieceBpe, LeftmostPairWinsATie) {
  const auto m = make({{"a", -5, 1}, {"b", -5, 1}, {"c", -5, 1}, {"ab", -1, 1}, {"bc", -1, 1}});
  EXPECT_EQ(m.encode("abc"), (Strings{"ab", "c"}));
  EXPECT_EQ(m.encode("bcab"), (Strings{"bc", "ab"}));
}

TEST(SentencePieceBpe, MergesChainIntoLongerPieces) {
  const auto m = make({{"a", -5, 1}, {"b", -5, 1}, {"c", -5, 1}, {"ab", -1, 1}, {"abc", -3, 1}});
  EXPECT_EQ(m.encode("abcab"), (Strings{"abc", "ab"}));
}

TEST(SentencePieceBpe, UnusedPiecesAreSplitBack) {
  // "ab" is UNUSED: it may be an intermediate merge ("abc") but never an output piece.
  const auto m = make({{"a", -5, 1}, {"b", -5, 1}, {"c", -5, 1}, {"ab", -1, 5}, {"abc", -3, 1}});
  EXPECT_EQ(m.encode("ab"), (Strings{"a", "b"}));
  EXPECT_EQ(m.encode("abc"), (Strings{"abc"}));
}

TEST(SentencePieceBpe, UserDefinedPiecesStayWhole) {
  const auto m = make({{"a", -5, 1}, {"b", -5, 1}, {"<x>", 0, 4}, {"a<", -1, 1}, {"ab", -1, 1}});
  EXPECT_EQ(m.encode("a<x>b"), (Strings{"a", "<x>", "b"}));
}

TEST(SentencePieceBpe, UnknownCharactersBecomeBytes) {
  const auto m = make({{"a", -5, 1}});
  EXPECT_EQ(m.encode("a\xC3\xA9"), (Strings{"a", "<0xC3>", "<0xA9>"}));
  EXPECT_EQ(m.decode({"a", "<0xC3>", "<0xA9>"}), "a\xC3\xA9");
  EXPECT_EQ(m.decode({"<0xC3>"}), "\xEF\xBF\xBD");
}

TEST(SentencePieceBpe, WithoutByteFallbackUnknownStaysOnePiece) {
  ModelSpec s = with_pieces({{"a", -5, 1}});
  s.pieces.resize(3);  // drop the byte pieces
  s.pieces.push_back({"a", -5, 1});
  s.byte_fallback = false;
  const auto m = SentencePieceBpe::parse(serialize(s), "test.model");
  EXPECT_EQ(m.encode("a\xC3\xA9"), (Strings{"a", "\xC3\xA9"}));
  EXPECT_EQ(m.piece_to_id("\xC3\xA9"), m.unk_id());
}

TEST(SentencePieceBpe, DummyPrefixAndSpaces) {
  const auto m = make({{kSp, -5, 1}, {"a", -5, 1}, {kSp + "a", -1, 1}}, /*dummy_prefix=*/true);
  EXPECT_EQ(m.encode("a a"), (Strings{kSp + "a", kSp + "a"}));
  EXPECT_EQ(m.encode(" a"), (Strings{kSp, kSp + "a"}));
  EXPECT_EQ(m.encode(""), Strings{});
  EXPECT_EQ(m.decode({kSp + "a", kSp + "a"}), "a a");
  EXPECT_EQ(m.decode({kSp, kSp + "a"}), " a");  // only one piece loses its "▁"
  EXPECT_EQ(m.decode({"<s>", kSp + "a"}), "a");  // control pieces are invisible
  EXPECT_EQ(m.decode({"<unk>", "a"}), " \xE2\x81\x87 a");
}

TEST(SentencePieceBpe, RejectsWhatItDoesNotImplement) {
  auto expect_error = [](const ModelSpec& s, const std::string& needle) {
    try {
      SentencePieceBpe::parse(serialize(s), "bad.model");
      ADD_FAILURE() << "no error for " << needle;
    } catch (const glamm::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.model"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  ModelSpec unigram = with_pieces({{"a", -1, 1}});
  unigram.model_type = 1;
  expect_error(unigram, "model_type");
  ModelSpec charsmap = with_pieces({{"a", -1, 1}});
  charsmap.charsmap = "xyz";
  expect_error(charsmap, "charsmap");
  ModelSpec extra_ws = with_pieces({{"a", -1, 1}});
  extra_ws.set_remove_extra_whitespaces = false;
  expect_error(extra_ws, "remove_extra_whitespaces");
  expect_error(with_pieces({{"a", -1, 1}, {"a", -2, 1}}), "twice");
  ModelSpec no_unk = with_pieces({{"a", -1, 1}});
  no_unk.pieces[0].type = 1;
  expect_error(no_unk, "unknown piece");
  ModelSpec bad_type = with_pieces({{"a", -1, 9}});
  expect_error(bad_type, "unknown type");
  ModelSpec bytes_off = with_pieces({{"a", -1, 1}});
  bytes_off.byte_fallback = false;
  expect_error(bytes_off, "byte_fallback");
  EXPECT_THROW(SentencePieceBpe::parse("\x0A\xFF", "bad.model"), glamm::InputError);  // length past the end
  EXPECT_THROW(SentencePieceBpe::parse("", "bad.model"), glamm::InputError);
}
