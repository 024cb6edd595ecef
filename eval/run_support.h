// What a task run needs around the task layer and shares between the command line (eval/*.cpp) and the Python
// module (python/src/tasks.cpp): the default run label, the record-path check before any work, the thread count,
// stage messages and the METEOR scorer handed to the caption tasks. No CLI11 here: the Python module compiles this
// file as it is.
#pragma once

#include <string>
#include <vector>

#include "eval/meteor_setup.h"
#include "eval/progress.h"
#include "eval/tasks/caption_tasks.h"

namespace glamm::cli {

/// Before any work: throws InputError(path, option, ...) (exit 2) unless the record can be written at `path` —
/// its folder exists and is writable, or can be created (the nearest existing ancestor is a writable folder), and
/// `path` itself is not a folder. "" checks nothing. Every task that writes a record checks it first, so that a
/// long evaluation does not end in a failed write.
void check_record_writable(const std::string& path, const std::string& option);

/// Worker threads for a requested count: `requested` when > 0, else the hardware concurrency (at least 1).
int resolve_thread_count(int requested);

/// The run label when none is given, from the predictions file: its stem, or — for the generic names the runners
/// write (predictions.json / predictions.jsonl / results.json) — its folder's name, so that evaluating
/// runA/predictions.json and runB/predictions.json does not write the same default record twice.
std::string default_label_from_file(const std::string& pred_file);

/// `label` made safe as part of a default output file name (glamm-results/<task>_..._<label>.json): every path
/// separator ('/', '\\') and every leading '.' becomes '_', so that a label can neither leave glamm-results/
/// ("../../x") nor create folders ("a/b"). The record keeps the label itself unchanged; only the file name uses this.
std::string label_for_file_name(const std::string& label);

/// Stage messages of a task printed through `progress` (which must outlive the returned callbacks).
tasks::TaskProgress task_progress(Progress& progress);

/// The loaded scorer `met` as the task layer takes it: scorer, resources, source, METEOR's signature entries
/// (sign_meteor) and the loading warnings `warnings`.
tasks::CaptionMeteor caption_meteor(const MeteorSetup& met, std::vector<std::string> warnings);

}  // namespace glamm::cli
