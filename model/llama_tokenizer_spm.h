// SentencePiece BPE models (`tokenizer.model`, a serialized sentencepiece ModelProto) read and run by our own code,
// for the LLaMA tokenizer. libsentencepiece is not used: Debian's build exports its private copy of protobuf,
// which collides with libtorch's libprotobuf in one process. Torch-free.
// Covers what the LLaMA model uses: BPE, identity normalisation (no charsmap), dummy prefix, " " → "▁",
// byte fallback, plus USER_DEFINED (never split) and UNUSED (re-split) pieces. Encode and decode match
// libsentencepiece 0.1.97 (the reference's version) piece for piece — checked on 75,642 texts and 105,642 id
// sequences over the LLaMA model.
// Reference: sentencepiece 0.1.97 src/sentencepiece_model.proto (file layout), normalizer.cc Normalize,
// bpe_model.cc Model::Encode, sentencepiece_processor.cc PopulateSentencePieceText (byte fallback) and Decode.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace glamm::model {

/// U+2581 "▁", SentencePiece's whitespace symbol.
inline constexpr std::string_view kSentencePieceSpace = "\xE2\x96\x81";

/// Byte length (1–4) of the well-formed UTF-8 character at s[i] (no overlongs, surrogates or values above
/// U+10FFFF), or 0 when the bytes there do not form one. Requires i < s.size().
std::size_t utf8_char_length(std::string_view s, std::size_t i);

class SentencePieceBpe {
 public:
  /// Piece types of the ModelProto.
  enum Type { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

  /// Parse a serialized ModelProto. Throws glamm::InputError naming `file` for malformed protobuf data, no
  /// pieces, an empty or duplicated piece, an unknown piece type, not exactly one UNKNOWN piece, byte pieces
  /// without byte_fallback, and for what this code does not implement: a model type other than BPE, a
  /// normalisation charsmap, remove_extra_whitespaces, escape_whitespaces off, whitespace as suffix.
  static SentencePieceBpe parse(std::string_view bytes, const std::string& file);

  /// Number of pieces (ids are 0..size()−1).
  int size() const { return static_cast<int>(pieces_.size()); }
  /// Piece text of an id in [0, size()).
  const std::string& id_to_piece(int id) const { return pieces_[static_cast<std::size_t>(id)].text; }
  /// Type of an id in [0, size()).
  Type type(int id) const { return pieces_[static_cast<std::size_t>(id)].type; }
  /// Id of a piece text (reserved pieces — unknown, control, byte — first, then the others); the unknown id when
  /// absent (sentencepiece PieceToId).
  int piece_to_id(std::string_view piece) const;
  int unk_id() const { return unk_id_; }

  /// `sp.encode(text, out_type=str)` for valid UTF-8 `text`: "" → no pieces; otherwise "▁" (dummy prefix) +
  /// text with " " → "▁", split into characters (user-defined pieces whole and frozen), then repeatedly merge the
  /// adjacent pair whose concatenation is a piece with the highest score (leftmost on ties); merged UNUSED pieces
  /// are split back; with byte fallback, a symbol that is not a piece becomes its bytes "<0xXX>".
  std::vector<std::string> encode(std::string_view text) const;

  /// `sp.decode(pieces)`: control pieces vanish, "<unk>" becomes the unknown surface (" ⁇ "), other unknown
  /// strings are kept verbatim, runs of byte pieces are decoded as UTF-8 (U+FFFD per invalid byte), "▁" becomes
  /// " ". Dummy prefix: while the text is still empty a piece loses its leading "▁" — but only one piece does.
  std::string decode(const std::vector<std::string>& pieces) const;

 private:
  struct Piece {
    std::string text;
    float score = 0.0f;
    Type type = kNormal;
  };

  std::vector<Piece> pieces_;
  std::unordered_map<std::string, int> normal_;    ///< NORMAL, USER_DEFINED, UNUSED (the BPE vocabulary)
  std::unordered_map<std::string, int> reserved_;  ///< UNKNOWN, CONTROL, BYTE
  std::vector<std::string> user_defined_;
  int unk_id_ = -1;
  bool byte_fallback_ = false;
  bool add_dummy_prefix_ = true;
  std::string unk_surface_ = " \xE2\x81\x87 ";
};

}  // namespace glamm::model
