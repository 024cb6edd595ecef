// Where glamm-eval gcg's mask recall gets its phrase similarities: BERT (--bert DIR, or env GLAMM_BERT; the
// official evaluate.py uses bert-base-uncased cosine) through the on-demand plugin, or a --text-sim table
// (tasks::TableSimilarity). docs/input-rules.md describes the table.
#pragma once

#include <memory>
#include <string>

#include "eval/tasks/gcg_similarity.h"

namespace glamm::cli {

/// Choose and load the source: an explicit --bert wins, then an explicit --text-sim, then env GLAMM_BERT. Throws
/// InputError when both options are given, when neither is available (the message says how to get BERT), or when
/// the table / BERT folder cannot be loaded.
std::shared_ptr<tasks::PhraseSimilarity> open_phrase_similarity(const std::string& text_sim,
                                                                const std::string& bert_dir);

}  // namespace glamm::cli
