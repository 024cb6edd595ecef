// The inference loop shared by every task: run this shard's items through an InferenceModel, write each item's
// output file atomically (a killed run never leaves a partial file), skip items whose output already exists and
// parses (resume), record failures and go on, merge the per-item files into the task's prediction file once every
// item of the list is done (whichever shard finishes last does it), and keep a run manifest.
//
// Output folder layout (`out`):
//   GCG       out/<image_id>.json            (the official layout; `glamm-eval gcg --pred out`)
//   others    out/items/<key>.json           per-item records (a JSON list), merged into
//             out/predictions.json           regcap / imagecap (JSON list, indent=2)
//             out/predictions.jsonl          refseg (JSON Lines)
//   all       out/manifest.json              (out/manifest.shard-k-of-N.json when sharded)
//
// Failure policy: an InputError for one item (unreadable or missing image, a model answer the task cannot use,
// e.g. fewer masks than [SEG] rounds) is reported, written to the manifest, and the run goes on with the next item;
// no output file is written for it, so the next run (resume) tries it again. Any other exception (device, memory,
// internal error) stops the run after the manifest has recorded it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/glamm.h"
#include "runners/identity.h"
#include "runners/interrupt.h"
#include "runners/items.h"
#include "runners/shard.h"

namespace glamm::runners {

/// How to run a list.
struct RunOptions {
  std::filesystem::path out;        ///< output folder (created)
  Shard shard;                      ///< part of the list to run
  std::size_t limit = 0;            ///< > 0: only the first `limit` items of the list (before sharding)
  bool quiet = false;               ///< no per-item progress lines
  nlohmann::ordered_json request;   ///< the command's options, copied into the manifest
  /// What produces the outputs (runners/identity.h; built by run_inference), stored in the manifest as
  /// "identity"; when not null, run_items first refuses a folder whose manifests record another one.
  nlohmann::ordered_json identity;
  /// false: `model` is a stand-in that was not loaded because every item was done; the manifest then keeps the
  /// model record (model, model_run, component_seconds) of the previous manifest instead of losing it.
  bool model_loaded = true;
  /// Generation requests decoded together (model::InferenceModel::generate_batch); 1 = one item at a time.
  /// Teacher-forced refseg always runs one item at a time. Outputs do not depend on it.
  std::size_t batch_size = 1;
  /// With batch_size > 1: re-run the first N batched items one request at a time and compare (BatchInvariance).
  std::size_t check_batch_invariance = 0;
};

/// Batched outputs against the same requests run alone (--check-batch-invariance): tokens, and masks as RLE, with
/// the IoU and the differing pixel count of every mask that differs.
struct BatchInvariance {
  std::size_t items = 0, sequences = 0, tokens_identical = 0, masks = 0, masks_identical = 0;
  double min_mask_iou = 1.0;
  std::vector<std::string> differences;  ///< "<item key>: tokens differ from step 3; mask 0: IoU …, n pixels differ"

  void compare(const std::string& key, const model::GlammOutput& batched, const model::GlammOutput& alone);
  nlohmann::ordered_json to_json() const;
  /// One line for the log.
  std::string summary() const;
};

/// One failed item.
struct ItemFailure {
  std::string key, image, message;
};

/// What a run did.
struct RunSummary {
  std::size_t total = 0;                  ///< items in the (limited) list
  std::size_t shard_begin = 0, shard_end = 0;
  std::size_t computed = 0, resumed = 0;  ///< this shard's items run now / found done
  std::vector<ItemFailure> failures;
  std::size_t missing = 0;                ///< items of the whole list still without output after this run
  bool complete = false;                  ///< missing == 0
  std::filesystem::path predictions;      ///< what an evaluator reads: GCG the folder, else the merged file ("" until complete)
  std::filesystem::path manifest;
  double wall_seconds = 0;
  int interrupted = 0;                    ///< SIGINT / SIGTERM that stopped the run after an item (runners/interrupt.h), else 0
  bool removed_stale_predictions = false; ///< a merged prediction file of an earlier, different item set was deleted
  BatchInvariance invariance;             ///< what --check-batch-invariance found (items 0 = not checked)
};

/// Where item `w` of a `task` list writes its output under `out`.
std::filesystem::path item_output_path(Task task, const WorkItem& w, const std::filesystem::path& out);

/// The merged prediction file of a task (regcap/imagecap out/predictions.json, refseg out/predictions.jsonl); for
/// GCG the folder itself.
std::filesystem::path predictions_path(Task task, const std::filesystem::path& out);

/// The manifest file of a shard: out/manifest.json for an unsharded run, out/manifest.<shard-k-of-N>.json else.
std::filesystem::path manifest_path(const std::filesystem::path& out, const Shard& s);

/// True when `path` exists, parses as JSON and has the task's shape (GCG: an object with caption, phrases and
/// pred_masks; others: a non-empty array of objects). A truncated or foreign file gives false (it is recomputed).
bool item_output_valid(Task task, const std::filesystem::path& path);

/// Whether the task's items are answered by generation (everything but teacher-forced refseg), so can be batched.
bool item_uses_generation(const ItemList& list);

/// The generation requests of one item: GCG, regcap, imagecap one; refseg in generate mode one per sentence;
/// teacher-forced refseg none (compute_item runs its chats).
std::vector<model::GenerateRequest> item_requests(const ItemList& list, const WorkItem& w);

/// The output file text of an item from its requests' outputs (item_requests order). Throws InputError for a
/// refseg item without sentences.
std::string item_text(const ItemList& list, const WorkItem& w, const std::vector<model::GlammOutput>& outs);

/// Compute the output file text of one item (calls the model; throws what the model throws, and InputError when
/// its answer does not fit the task, e.g. a teacher-forced chat returning fewer masks than rounds). The model's
/// per-component wall times (GlammOutput::seconds) are added to `*seconds` when given.
std::string compute_item(const ItemList& list, const WorkItem& w, model::InferenceModel& model,
                         std::map<std::string, double>* seconds = nullptr);

/// Run shard `o.shard` of `list` (see the file comment). Writes the manifest at the start and at the end; `log`
/// receives progress and failure lines. Between items it checks runners::pending_interrupt(): after a SIGINT /
/// SIGTERM it stops, writes the manifest with status "interrupted" and returns with `interrupted` set (no merge).
/// Throws InputError when `out` cannot be created or records another identity (check_identity), and passes on
/// non-input errors of the model (after recording them in the manifest).
RunSummary run_items(const ItemList& list, model::InferenceModel& model, const RunOptions& o, std::ostream& log);

/// Merge the per-item files of the whole (limited) list into predictions_path when every item has one; returns
/// the number of items still missing (0 = merged; GCG: nothing to write). The merged file always matches the
/// latest list: it is rewritten when the list is complete and DELETED when items are missing (so a file from an
/// earlier, smaller run, e.g. with --limit, never looks current). Throws InputError naming an item file that does
/// not parse.
std::size_t merge_predictions(const ItemList& list, const std::filesystem::path& out, std::size_t limit = 0);

}  // namespace glamm::runners
