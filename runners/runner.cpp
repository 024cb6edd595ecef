// The inference loop. See runner.h.
#include "runners/runner.h"

#include <chrono>
#include <csignal>
#include <ctime>
#include <algorithm>
#include <exception>
#include <map>
#include <system_error>

#include <fmt/format.h>

#include "common/error.h"
#include "common/io.h"
#include "common/result.h"
#include "metrics/mask/rle.h"
#include "runners/outputs.h"
#include "runners/progress.h"
#include "runners/python_json.h"

namespace glamm::runners {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

fs::path item_output_path(Task task, const WorkItem& w, const fs::path& out) {
  if (task == Task::kGcg) return out / (w.key + ".json");
  return out / "items" / (w.key + ".json");
}

fs::path predictions_path(Task task, const fs::path& out) {
  switch (task) {
    case Task::kGcg: return out;
    case Task::kRefseg: return out / "predictions.jsonl";
    default: return out / "predictions.json";
  }
}

fs::path manifest_path(const fs::path& out, const Shard& s) {
  return s.count <= 1 ? out / "manifest.json" : out / ("manifest." + s.tag() + ".json");
}

bool item_output_valid(Task task, const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  try {
    const nlohmann::json j = io::load_json(path);
    if (task == Task::kGcg)
      return j.is_object() && j.contains("caption") && j.contains("phrases") && j.contains("pred_masks") &&
             j["pred_masks"].is_array();
    if (!j.is_array() || j.empty()) return false;
    for (const auto& r : j)
      if (!r.is_object()) return false;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool item_uses_generation(const ItemList& list) { return !(list.task == Task::kRefseg && !list.refseg_generate); }

std::vector<model::GenerateRequest> item_requests(const ItemList& list, const WorkItem& w) {
  switch (list.task) {
    case Task::kGcg:
      return {model::GenerateRequest{w.image, w.instruction, {}}};
    case Task::kRegcap:
    case Task::kImagecap:
      return {model::GenerateRequest{w.image, w.instruction, w.boxes}};
    case Task::kRefseg: {
      std::vector<model::GenerateRequest> r;
      if (list.refseg_generate)
        for (const RefSentence& s : w.sentences)
          r.push_back(model::GenerateRequest{w.image, fill_template(kRefsegGenQuestion, s.text), {}});
      return r;
    }
  }
  return {};
}

std::string item_text(const ItemList& list, const WorkItem& w, const std::vector<model::GlammOutput>& outs) {
  switch (list.task) {
    case Task::kGcg:
      return gcg_output_text(w.image_id.is_string() ? w.image_id.get<std::string>() : w.image_id.dump(), outs.at(0));
    case Task::kRegcap:
    case Task::kImagecap:
      return caption_list_text({caption_record(w.image_id, outs.at(0).caption)});
    case Task::kRefseg: {
      std::vector<ordered_json> recs;
      for (std::size_t k = 0; k < outs.size() && k < w.sentences.size(); ++k) {
        const model::GlammOutput& out = outs[k];
        // The first [SEG] mask answers the question; no [SEG] means an empty prediction.
        recs.push_back(refseg_record(list, w, w.sentences[k],
                                     out.masks.empty() ? empty_mask(out.image_height, out.image_width)
                                                       : out.masks.front()));
      }
      if (recs.empty()) throw InputError(w.image.string(), "image " + w.key, "no sentence to segment");
      return ordered_json(recs).dump();
    }
  }
  return "";
}

std::string compute_item(const ItemList& list, const WorkItem& w, model::InferenceModel& model,
                         std::map<std::string, double>* seconds) {
  auto add = [seconds](const model::GlammOutput& out) {
    if (seconds)
      for (const auto& [k, v] : out.seconds) (*seconds)[k] += v;
  };
  if (item_uses_generation(list)) {
    std::vector<model::GlammOutput> outs;
    for (const model::GenerateRequest& q : item_requests(list, w)) {
      outs.push_back(model.generate(q.image, q.instruction, q.boxes));
      add(outs.back());
    }
    return item_text(list, w, outs);
  }
  // refseg, teacher-forced: one forward pass per chat of up to three sentences.
  std::vector<ordered_json> recs;
  const auto chats = refseg_conversations(w);
  std::size_t k = 0;
  for (const auto& chat : chats) {
    const model::GlammOutput out = model.teacher_forced(w.image, chat);
    add(out);
    if (out.masks.size() != chat.size())
      throw InputError(w.image.string(), "image " + w.key,
                       fmt::format("the teacher-forced chat has {} [SEG] answers but the model returned {} masks",
                                   chat.size(), out.masks.size()));
    for (const auto& m : out.masks) recs.push_back(refseg_record(list, w, w.sentences[k++], m));
  }
  if (recs.empty()) throw InputError(w.image.string(), "image " + w.key, "no sentence to segment");
  return ordered_json(recs).dump();
}

void BatchInvariance::compare(const std::string& key, const model::GlammOutput& batched,
                              const model::GlammOutput& alone) {
  ++sequences;
  const bool same_tokens = batched.generated_ids == alone.generated_ids;
  tokens_identical += same_tokens;
  std::string note;
  if (!same_tokens) {
    std::size_t d = 0;
    while (d < batched.generated_ids.size() && d < alone.generated_ids.size() &&
           batched.generated_ids[d] == alone.generated_ids[d])
      ++d;
    note = fmt::format("tokens differ from step {}", d);
  }
  if (batched.masks.size() != alone.masks.size()) {
    note += fmt::format("{}{} masks batched, {} alone", note.empty() ? "" : "; ", batched.masks.size(),
                        alone.masks.size());
  } else {
    for (std::size_t m = 0; m < batched.masks.size(); ++m) {
      ++masks;
      const model::PredictedMask& a = batched.masks[m];
      const model::PredictedMask& b = alone.masks[m];
      if (a.counts == b.counts && a.height == b.height && a.width == b.width) {
        ++masks_identical;
        continue;
      }
      double iou = 0;
      std::size_t differ = 0;
      if (a.height == b.height && a.width == b.width) {
        const auto h = static_cast<uint32_t>(a.height), wd = static_cast<uint32_t>(a.width);
        const std::vector<uint8_t> pa = mask::decode(mask::from_string(a.counts, h, wd));
        const std::vector<uint8_t> pb = mask::decode(mask::from_string(b.counts, h, wd));
        std::size_t inter = 0, uni = 0;
        for (std::size_t p = 0; p < pa.size() && p < pb.size(); ++p) {
          inter += pa[p] && pb[p];
          uni += pa[p] || pb[p];
          differ += (pa[p] != 0) != (pb[p] != 0);
        }
        iou = uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0;
      }
      min_mask_iou = std::min(min_mask_iou, iou);
      note += fmt::format("{}mask {}: IoU {:.6f}, {} pixels differ", note.empty() ? "" : "; ", m, iou, differ);
    }
  }
  if (!note.empty()) differences.push_back(key + ": " + note);
}

ordered_json BatchInvariance::to_json() const {
  ordered_json j;
  j["items"] = items;
  j["sequences"] = sequences;
  j["tokens_identical"] = tokens_identical;
  j["masks"] = masks;
  j["masks_rle_identical"] = masks_identical;
  j["min_mask_iou"] = min_mask_iou;
  j["differences"] = differences;
  return j;
}

std::string BatchInvariance::summary() const {
  return fmt::format("batch invariance ({} items re-run alone): {}/{} sequences with identical tokens, {}/{} masks "
                     "RLE-identical{}",
                     items, tokens_identical, sequences, masks_identical, masks,
                     masks_identical < masks ? fmt::format(", lowest IoU {:.6f}", min_mask_iou) : std::string());
}

std::size_t merge_predictions(const ItemList& list, const fs::path& out, std::size_t limit) {
  const std::size_t n = limit > 0 ? std::min(limit, list.items.size()) : list.items.size();
  std::size_t missing = 0;
  std::error_code ec;
  for (std::size_t i = 0; i < n; ++i)
    if (!fs::is_regular_file(item_output_path(list.task, list.items[i], out), ec)) ++missing;
  if (list.task == Task::kGcg) return missing;
  if (missing) {
    fs::remove(predictions_path(list.task, out), ec);  // stale: made for another (smaller or older) item set
    return missing;
  }
  std::vector<ordered_json> recs;
  for (std::size_t i = 0; i < n; ++i) {
    const fs::path p = item_output_path(list.task, list.items[i], out);
    const std::string text = io::read_file(p);
    ordered_json j;
    try {
      io::check_json_depth(text, p.string());
      j = ordered_json::parse(text);
    } catch (const std::exception& e) {
      throw InputError(p.string(), "", std::string("item file does not parse (delete it to recompute): ") + e.what());
    }
    if (!j.is_array()) throw InputError(p.string(), "", "item file is not a JSON list (delete it to recompute)");
    for (auto& r : j) recs.push_back(std::move(r));
  }
  const fs::path target = predictions_path(list.task, out);
  io::write_file_atomic(target, list.task == Task::kRefseg ? jsonl_text(recs) : caption_list_text(recs));
  return 0;
}

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// The model record of an earlier run into `out` for a run that did not load the model: the manifest at `own`
/// when it has one, else the first other manifest of the folder whose model was loaded. Null when none.
ordered_json previous_model_record(const fs::path& out, const fs::path& own) {
  std::vector<fs::path> files{own};
  for (const fs::path& f : manifest_files(out))
    if (f != own) files.push_back(f);
  std::error_code ec;
  for (const fs::path& f : files) {
    if (!fs::is_regular_file(f, ec)) continue;
    ordered_json j;
    try {
      const std::string text = io::read_file(f);
      io::check_json_depth(text, f.string());
      j = ordered_json::parse(text);
    } catch (const std::exception&) {
      continue;
    }
    if (!j.is_object() || !j.contains("model") || !j["model"].is_object() || j["model"].contains("loaded")) continue;
    ordered_json rec;
    rec["model"] = j["model"];
    if (j.contains("model_run")) {
      rec["model_run"] = j["model_run"];
    } else {
      rec["model_run"] = {{"manifest", f.filename().string()}, {"started", j.value("started", "")},
                          {"finished", j.value("finished", "")}, {"computed", j.value("computed", 0)}};
    }
    rec["component_seconds"] = j.value("component_seconds", ordered_json::object());
    return rec;
  }
  return nullptr;
}

}  // namespace

RunSummary run_items(const ItemList& list, model::InferenceModel& model, const RunOptions& o, std::ostream& log) {
  RunSummary sum;
  sum.total = o.limit > 0 ? std::min(o.limit, list.items.size()) : list.items.size();
  std::tie(sum.shard_begin, sum.shard_end) = shard_range(sum.total, o.shard);
  sum.manifest = manifest_path(o.out, o.shard);
  if (!o.identity.is_null()) check_identity(o.out, o.identity);
  const ordered_json previous = o.model_loaded ? ordered_json() : previous_model_record(o.out, sum.manifest);
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) throw InputError(o.out.string(), "", "cannot create the output folder: " + ec.message());

  ordered_json man;
  man["tool"] = tool_version();
  man["task"] = task_name(list.task);
  man["status"] = "running";
  man["started"] = utc_now();
  man["source"] = list.source;
  man["shard"] = {{"index", o.shard.index}, {"count", o.shard.count}, {"source", o.shard.source},
                  {"items", {sum.shard_begin, sum.shard_end}}};
  man["items_total"] = sum.total;
  man["items_in_shard"] = sum.shard_end - sum.shard_begin;
  if (list.task == Task::kRefseg)
    man["refseg"] = {{"dataset", list.dataset}, {"split_by", list.split_by}, {"split", list.split},
                     {"mode", list.refseg_generate ? "generate" : "teacher-forced"},
                     {"question", list.refseg_generate ? kRefsegGenQuestion : kRefsegTfQuestion},
                     {"answer", list.refseg_generate ? "" : kRefsegTfAnswer},
                     {"rounds_per_chat", 3}};
  if (!o.identity.is_null()) man["identity"] = o.identity;
  man["model_loaded"] = o.model_loaded;
  if (!previous.is_null()) {  // nothing loaded this time: keep the record of the run that computed the outputs
    man["model"] = previous["model"];
    man["model_run"] = previous["model_run"];
  } else {
    ordered_json d = ordered_json::object();
    for (const auto& [k, v] : model.describe()) d[k] = v;
    man["model"] = std::move(d);
  }
  man["request"] = o.request;
  man["warnings"] = list.warnings;
  io::write_file_atomic(sum.manifest, man.dump(2) + "\n");

  ItemProgress progress(sum.shard_end - sum.shard_begin, log, o.quiet);
  std::map<std::string, double> component_seconds;
  auto finish = [&](const std::string& status, const std::string& error) {
    man["status"] = status;
    if (!error.empty()) man["error"] = error;
    man["finished"] = utc_now();
    man["computed"] = sum.computed;
    man["resumed"] = sum.resumed;
    man["failed"] = sum.failures.size();
    ordered_json f = ordered_json::array();
    for (const auto& x : sum.failures) f.push_back({{"key", x.key}, {"image", x.image}, {"error", x.message}});
    man["failures"] = std::move(f);
    man["missing_in_list"] = sum.missing;
    man["predictions"] = sum.predictions.string();
    man["wall_seconds"] = progress.elapsed();
    ordered_json cs = ordered_json::object();
    for (const auto& [k, v] : component_seconds) cs[k] = v;
    man["component_seconds"] = previous.is_null() ? std::move(cs) : previous["component_seconds"];
    io::write_file_atomic(sum.manifest, man.dump(2) + "\n");
  };

  auto seconds_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto fail = [&](const WorkItem& w, const std::string& message, double seconds) {
    sum.failures.push_back({w.key, w.image.string(), message});
    log << "error: item " << w.key << ": " << message << " (skipped; a later run retries it)\n";
    progress.item(w.key, "FAILED", seconds);
  };
  const std::size_t batch = std::max<std::size_t>(1, o.batch_size);
  const bool batched = batch > 1 && item_uses_generation(list);
  std::size_t i = sum.shard_begin;
  while (i < sum.shard_end) {
    if ((sum.interrupted = pending_interrupt()) != 0) break;
    if (!batched) {
      const WorkItem& w = list.items[i++];
      const fs::path target = item_output_path(list.task, w, o.out);
      if (item_output_valid(list.task, target)) {
        ++sum.resumed;
        progress.item(w.key, "resumed", 0);
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      try {
        if (!fs::is_regular_file(w.image, ec)) throw InputError(w.image.string(), "", "image file not found");
        const std::string text = compute_item(list, w, model, &component_seconds);
        io::write_file_atomic(target, text);
        ++sum.computed;
        progress.item(w.key, "done", seconds_since(t0));
      } catch (const InputError& e) {
        fail(w, e.what(), seconds_since(t0));
      } catch (const std::exception& e) {
        finish("stopped", fmt::format("item {}: {}", w.key, e.what()));
        throw;
      }
      continue;
    }
    // Batched: gather items until their generation requests fill the batch (an item's requests stay together).
    struct Pending {
      std::size_t index;
      std::size_t first, count;  // its requests in `requests`
    };
    std::vector<Pending> pending;
    std::vector<model::GenerateRequest> requests;
    while (i < sum.shard_end && requests.size() < batch) {
      const WorkItem& w = list.items[i];
      if (item_output_valid(list.task, item_output_path(list.task, w, o.out))) {
        ++sum.resumed;
        progress.item(w.key, "resumed", 0);
      } else if (!fs::is_regular_file(w.image, ec)) {
        fail(w, InputError(w.image.string(), "", "image file not found").what(), 0);
      } else {
        std::vector<model::GenerateRequest> r = item_requests(list, w);
        pending.push_back({i, requests.size(), r.size()});
        for (auto& q : r) requests.push_back(std::move(q));
      }
      ++i;
    }
    if (pending.empty()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<model::GenerateResult> results;
    try {
      results = model.generate_batch(requests);
    } catch (const std::exception& e) {
      finish("stopped", fmt::format("items {}..{}: {}", list.items[pending.front().index].key,
                                    list.items[pending.back().index].key, e.what()));
      throw;
    }
    const double wall = seconds_since(t0);
    for (const Pending& p : pending) {
      const WorkItem& w = list.items[p.index];
      const double share = requests.empty() ? 0.0 : wall * static_cast<double>(p.count) / requests.size();
      try {
        std::vector<model::GlammOutput> outs;
        for (std::size_t k = p.first; k < p.first + p.count; ++k) {
          if (results[k].error) std::rethrow_exception(results[k].error);
          outs.push_back(results[k].output);
        }
        const std::string text = item_text(list, w, outs);
        for (const auto& out : outs)
          for (const auto& [name, v] : out.seconds) component_seconds[name] += v;
        io::write_file_atomic(item_output_path(list.task, w, o.out), text);
        ++sum.computed;
        progress.item(w.key, "done", share);
        if (sum.invariance.items < o.check_batch_invariance) {
          ++sum.invariance.items;
          for (std::size_t k = 0; k < outs.size(); ++k) {
            const model::GenerateRequest& q = requests[p.first + k];
            try {
              sum.invariance.compare(w.key, outs[k], model.generate(q.image, q.instruction, q.boxes));
            } catch (const std::exception& e) {  // the item is written: a failing check is reported, not an item failure
              sum.invariance.differences.push_back(w.key + ": the check itself failed: " + e.what());
            }
          }
        }
      } catch (const InputError& e) {
        fail(w, e.what(), share);
      } catch (const std::exception& e) {
        finish("stopped", fmt::format("item {}: {}", w.key, e.what()));
        throw;
      }
    }
  }
  if (sum.invariance.items > 0) {
    man["batch_invariance"] = sum.invariance.to_json();
    log << sum.invariance.summary() << "\n";
    for (const std::string& d : sum.invariance.differences) log << "  batch invariance: " << d << "\n";
  }

  if (!sum.interrupted) sum.interrupted = pending_interrupt();
  if (sum.interrupted) {  // stop quickly (a Slurm time limit leaves seconds): no merge
    for (std::size_t i = 0; i < sum.total; ++i)
      if (!fs::is_regular_file(item_output_path(list.task, list.items[i], o.out), ec)) ++sum.missing;
    sum.wall_seconds = progress.elapsed();
    finish("interrupted", fmt::format("stopped by signal {} ({}) after {} of {} items of the shard", sum.interrupted,
                                      sum.interrupted == SIGINT ? "SIGINT" : sum.interrupted == SIGTERM ? "SIGTERM" : "?",
                                      sum.computed + sum.resumed + sum.failures.size(), sum.shard_end - sum.shard_begin));
    return sum;
  }
  const bool had_predictions = list.task != Task::kGcg && fs::exists(predictions_path(list.task, o.out), ec);
  sum.missing = merge_predictions(list, o.out, o.limit);
  sum.complete = sum.missing == 0;
  sum.removed_stale_predictions = had_predictions && !sum.complete;
  if (sum.complete) sum.predictions = predictions_path(list.task, o.out);
  sum.wall_seconds = progress.elapsed();
  finish(sum.failures.empty() ? "finished" : "finished with failures", "");
  return sum;
}

}  // namespace glamm::runners
