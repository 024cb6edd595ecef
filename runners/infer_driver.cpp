// `infer` without the command line. See infer_driver.h.
#include "runners/infer_driver.h"

#include <map>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "runners/identity.h"

namespace glamm::runners {

namespace fs = std::filesystem;

nlohmann::ordered_json InferRequest::to_json() const {
  nlohmann::ordered_json j;
  j["task"] = task;
  j["checkpoint"] = checkpoint.string();
  j["clip"] = clip.string();
  j["images"] = images.string();
  j["out"] = out.string();
  j["annotations"] = annotations.string();
  j["data_root"] = data_root.string();
  j["refer_dir"] = refer_dir.string();
  j["dataset"] = dataset;
  j["split"] = split;
  j["split_by"] = split_by;
  if (task == "refseg") j["refseg_mode"] = refseg_mode;
  j["device"] = device;
  j["dtype"] = dtype;
  j["shard"] = shard;
  j["max_new_tokens"] = max_new_tokens;
  j["kv_cache"] = kv_cache;
  j["threads"] = threads;
  j["limit"] = limit;
  j["batch_size"] = batch_size;
  if (check_batch_invariance > 0) j["check_batch_invariance"] = check_batch_invariance;
  return j;
}

namespace {

/// Stands in for the model when every item of the shard is already done (resume): nothing is loaded.
class NotLoadedModel final : public model::InferenceModel {
 public:
  model::GlammOutput generate(const fs::path&, const std::string&, const std::vector<model::RegionBox>&) override {
    throw std::logic_error("model not loaded");
  }
  model::GlammOutput teacher_forced(const fs::path&, const std::vector<model::ChatRound>&) override {
    throw std::logic_error("model not loaded");
  }
  std::map<std::string, std::string> describe() const override {
    return {{"loaded", "no: every item of this shard was already done"}};
  }
};

fs::path existing_dir(const fs::path& given, const fs::path& fallback, const std::string& option) {
  const fs::path p = given.empty() ? fallback : given;
  std::error_code ec;
  if (!fs::is_directory(p, ec))
    throw InputError(p.string(), "", "image folder not found" +
                                         std::string(given.empty() ? " (default; pass " + option + " DIR)" : ""));
  return p;
}

/// `given`, else `fallback`; `what` says what needs it when there is no fallback either ("--dataset flickr30k").
fs::path existing_file(const fs::path& given, const fs::path& fallback, const std::string& option,
                       const std::string& what = "") {
  if (given.empty() && fallback.empty())
    throw InputError("", option, "give the annotation file: " + (what.empty() ? std::string("this task") : what) +
                                     " has no default path (" + option + " FILE)");
  const fs::path p = given.empty() ? fallback : given;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec))
    throw InputError(p.string(), "", given.empty() ? "default annotation file not found (under --data-root; pass " + option +
                                                         " FILE)"
                                                   : "annotation file not found");
  return p;
}

/// A list without a single item is an error (like an empty image folder), with the loader's warnings.
ItemList require_items(ItemList l) {
  if (!l.items.empty()) return l;
  std::string why;
  for (const auto& w : l.warnings) why += "; " + w;
  throw InputError(l.source, "", "no usable items in the list (nothing to infer)" + why);
}

}  // namespace

namespace {

ItemList build_items_unchecked(const InferRequest& r) {
  const Task task = parse_task(r.task);
  const fs::path& root = r.data_root;
  switch (task) {
    case Task::kGcg: {
      const fs::path images = existing_dir(r.images, root / "GranDf" / "GranDf_HA_images" / "val_test", "--images");
      if (!r.annotations.empty()) return gcg_items_from_grandf(existing_file(r.annotations, {}, "--annotations"), images);
      return gcg_items_from_folder(images);
    }
    case Task::kRegcap: {
      if (r.dataset != "refcocog" && r.dataset != "vg")
        throw InputError("", "--dataset", "region captioning needs --dataset refcocog or vg (got '" + r.dataset + "')");
      const bool vg = r.dataset == "vg";
      const fs::path ann = existing_file(
          r.annotations,
          vg ? root / "visual_genome" / "test_caption.json"
             : root / "RefCoco_Reg" / "mdetr_annotations" / "finetune_refcocog_val_captions.json",
          "--annotations");
      const fs::path images =
          existing_dir(r.images, vg ? root / "visual_genome" / "images" : root / "coco_2014" / "train2014", "--images");
      return regcap_items(ann, images);
    }
    case Task::kRefseg: {
      if (r.dataset.empty()) throw InputError("", "--dataset", "referring segmentation needs --dataset refcoco, refcoco+ or refcocog");
      if (r.refseg_mode != "tf" && r.refseg_mode != "generate")
        throw InputError("", "--refseg-mode", "'" + r.refseg_mode + "' is not tf or generate");
      const fs::path refer_dir = r.refer_dir.empty() ? root / "Refer_Segm" / r.dataset : r.refer_dir;
      const fs::path images = existing_dir(r.images, root / "coco_2014" / "train2014", "--images");
      return refseg_items(refer_dir, r.dataset, r.split_by, r.split.empty() ? "val" : r.split, images,
                          r.refseg_mode == "generate");
    }
    case Task::kImagecap: {
      std::string ds = r.dataset;
      if (ds.empty()) ds = r.annotations.empty() ? "folder" : "";
      if (ds.empty()) throw InputError("", "--dataset", "with --annotations, say which file it is: --dataset flickr30k or nocaps");
      if (ds == "folder") return imagecap_items("folder", {}, "", existing_dir(r.images, {}, "--images"));
      const fs::path ann = existing_file(r.annotations, {}, "--annotations", "--dataset " + ds);
      return imagecap_items(ds, ann, r.split, existing_dir(r.images, {}, "--images"));
    }
  }
  throw InputError("", "task", r.task);
}

std::string shard_source_text(const std::string& source) {
  if (source == "slurm") return "the Slurm array: SLURM_ARRAY_TASK_ID/COUNT";
  if (source == "torchrun") return "torchrun: RANK/WORLD_SIZE";
  if (source == "--shard") return "--shard";
  return "default: no --shard, no launcher variables";
}

}  // namespace

ItemList build_items(const InferRequest& r) { return require_items(build_items_unchecked(r)); }

nlohmann::ordered_json run_identity(const InferRequest& r, const ItemList& list, const model::GlammOptions& mo) {
  nlohmann::ordered_json id;
  id["task"] = task_name(list.task);
  id["items_from"] = fs::path(list.source).filename().string();
  if (list.task == Task::kRefseg) {
    id["dataset"] = list.dataset;
    id["split_by"] = list.split_by;
    id["split"] = list.split;
    id["refseg_mode"] = list.refseg_generate ? "generate" : "tf";
  } else {
    id["dataset"] = r.dataset;
    id["split"] = list.task == Task::kImagecap && r.dataset == "flickr30k" && r.split.empty() ? "test" : r.split;
  }
  id["checkpoint"] = absolute_text(mo.checkpoint);
  id["clip"] = absolute_text(mo.clip);
  id["checkpoint_config_sha256"] = optional_sha256(mo.checkpoint / "config.json");
  id["checkpoint_added_tokens_sha256"] = optional_sha256(mo.checkpoint / "added_tokens.json");
  id["checkpoint_tokenizer_model_sha256"] = optional_sha256(mo.checkpoint / "tokenizer.model");
  id["clip_config_sha256"] = optional_sha256(mo.clip / "config.json");
  id["max_new_tokens"] = mo.max_new_tokens;
  id["legacy_tokenizer"] = mo.legacy_tokenizer;
  return id;
}

model::GlammOptions model_options(const InferRequest& r, const Shard& s) {
  model::GlammOptions o;
  o.checkpoint = r.checkpoint;
  o.clip = r.clip;
  o.device = device_for_shard(r.device, s);
  o.dtype = r.dtype;
  o.kv_cache = r.kv_cache;
  o.threads = r.threads;
  o.max_new_tokens = r.max_new_tokens;
  return o;
}

RunSummary run_inference(const InferRequest& r, const ModelFactory& factory, const EnvLookup& env, std::ostream& log) {
  const Shard shard = resolve_shard(r.shard, env);
  if (!shard.note.empty()) log << "note: " << shard.note << "\n";
  if (r.out.empty()) throw InputError("", "--out", "give the output folder");
  if (r.max_new_tokens < 1) throw InputError("", "--max-new-tokens", "must be at least 1");
  if (r.dtype != "fp32" && r.dtype != "bf16") throw InputError("", "--dtype", "'" + r.dtype + "' is not fp32 or bf16");
  ItemList list = build_items(r);
  for (const auto& w : list.warnings) log << "warning: " << w << "\n";
  RunOptions o;
  o.out = r.out;
  o.shard = shard;
  o.limit = r.limit;
  o.quiet = r.quiet;
  if (r.batch_size < 1) throw InputError("", "--batch-size", "must be at least 1");
  if (r.check_batch_invariance > 0 && r.batch_size < 2)
    throw InputError("", "--check-batch-invariance", "compares batched outputs with batch 1: give --batch-size >= 2");
  o.batch_size = r.batch_size;
  o.check_batch_invariance = r.check_batch_invariance;
  o.request = r.to_json();
  const model::GlammOptions mo = model_options(r, shard);
  o.identity = run_identity(r, list, mo);
  check_identity(r.out, o.identity);  // before the model is loaded or anything is written
  const std::size_t total = r.limit > 0 ? std::min(r.limit, list.items.size()) : list.items.size();
  const auto [b, e] = shard_range(total, shard);
  if (!r.quiet || shard.source == "slurm" || shard.source == "torchrun")
    log << fmt::format("infer {}: {} items from {}; shard {} (chosen by {}) = items [{}, {}); output {}\n", r.task,
                       total, list.source, shard.text(), shard_source_text(shard.source), b, e, r.out.string());
  bool all_done = true;
  for (std::size_t i = b; i < e && all_done; ++i)
    all_done = item_output_valid(list.task, item_output_path(list.task, list.items[i], r.out));
  std::unique_ptr<model::InferenceModel> m =
      all_done ? std::make_unique<NotLoadedModel>() : factory(mo);
  if (!m) throw InputError(r.checkpoint.string(), "", "the model could not be created");
  o.model_loaded = !all_done;
  return run_items(list, *m, o, log);
}

}  // namespace glamm::runners
