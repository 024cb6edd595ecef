// The quirks `--strict` switches, one table per task. The table is the single source of the `--strict` help text,
// the printed "strict: ..." line and the record's `strict` signature entry (docs/quirks.md explains each entry).
#pragma once

#include <string>
#include <vector>

namespace glamm::tasks {

/// One reference quirk that `--strict` corrects.
struct Quirk {
  std::string id;         ///< docs/quirks.md number, e.g. "q1"; "" for an unnumbered entry
  std::string signature;  ///< short name in the record's `strict` signature entry, e.g. "miou_nan_as_1"; "" for a
                          ///< switch recorded elsewhere in the signature (e.g. the tokenizer's line-break mode)
  std::string help;       ///< what --strict does instead, one clause for --help
};

/// The quirks of one task command.
struct QuirkTable {
  std::string command;              ///< e.g. "gcg"
  std::string summary;              ///< first words of the --help text, e.g. "Use the corrected GCG variants"
  std::vector<Quirk> quirks;        ///< in docs/quirks.md order
  std::string strict_note;          ///< tail of the printed strict line, e.g. "not comparable to the paper"

  /// `--strict` help: "<summary> (docs/quirks.md): <help 1> (q1); <help 2> (q2); ...".
  std::string help_text() const;
  /// Printed after the results with --strict: "strict: <summary> (docs/quirks.md q1-q7, q13)[; <strict_note>]"
  /// (the numbered ids sorted, consecutive numbers collapsed).
  std::string strict_line() const;
  /// Signature value: "off", or "on(<signature 1>,<signature 2>,...)" in table order (entries without a signature
  /// name left out).
  std::string signature_value(bool strict) const;
};

}  // namespace glamm::tasks
