// `glamm-eval infer <task>` without the command line: resolve the shard and device, build the task's item list from
// the dataset options (checked before the model is loaded, so a typo costs no model load), load the model, run.
// eval/infer.cpp and eval/run.cpp are thin CLI11 wrappers around run_inference; tests pass a fake model factory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "model/glamm.h"
#include "runners/items.h"
#include "runners/runner.h"
#include "runners/shard.h"

namespace glamm::runners {

/// Every option of `infer`.
struct InferRequest {
  std::string task;                          ///< gcg, regcap, refseg, imagecap
  std::filesystem::path checkpoint, clip;    ///< model folders
  std::filesystem::path images, out;         ///< image folder ("" = task default under data_root), output folder
  std::filesystem::path annotations;         ///< task annotation file ("" = task default / folder mode)
  std::filesystem::path data_root = "./data";
  std::filesystem::path refer_dir;           ///< refseg: folder with refs(<split_by>).p + instances.json
  std::string dataset, split, split_by;
  std::string refseg_mode = "tf";            ///< "tf" (teacher-forced) or "generate"
  std::string device = "cpu", dtype = "fp32";
  std::string shard;                         ///< "k/N" or "" (environment / whole list)
  int max_new_tokens = 512;
  bool kv_cache = true;
  int threads = 0;  ///< libtorch intra-op threads (0: $OMP_NUM_THREADS, else all CPUs)
  std::size_t limit = 0;
  bool quiet = false;
  std::size_t batch_size = 1;              ///< generation requests decoded together (runners::RunOptions)
  std::size_t check_batch_invariance = 0;  ///< re-run this many batched items alone and compare

  /// The options as JSON (for the manifest).
  nlohmann::ordered_json to_json() const;
};

/// Makes the model (the plugin loader in glamm-eval, a fake in tests).
using ModelFactory = std::function<std::unique_ptr<model::InferenceModel>(const model::GlammOptions&)>;

/// The item list `r` asks for, with the task defaults of GLaMM's data layout (dataset-formats.md §2):
///  * gcg: --annotations = a GranD-f caption GT file → its images in GT order, else every image of --images;
///    images default <data-root>/GranDf/GranDf_HA_images/val_test (the official scripts' folder);
///  * regcap: --dataset refcocog (default annotations <data-root>/RefCoco_Reg/mdetr_annotations/
///    finetune_refcocog_val_captions.json, images <data-root>/coco_2014/train2014) or vg (<data-root>/visual_genome/
///    test_caption.json, images <data-root>/visual_genome/images);
///  * refseg: --dataset refcoco|refcoco+|refcocog|refclef, --split (default val), --split-by (GLaMM's default),
///    REFER files in --refer-dir or <data-root>/Refer_Segm/<dataset>, images <data-root>/coco_2014/train2014;
///  * imagecap: --dataset flickr30k (--split, default test) / nocaps with --annotations, or folder (default when
///    no --annotations) over --images.
/// Throws InputError naming the option or the path tried (a default path included), and for a list without a
/// single usable item (e.g. an annotation file whose entries all lack a box).
ItemList build_items(const InferRequest& r);

/// The identity block of a run (runners/identity.h): task, items_from (file name of the list source), dataset,
/// split (refseg also split_by and refseg_mode), checkpoint and clip as absolute paths, SHA-256 of the
/// checkpoint's config.json / added_tokens.json / tokenizer.model and of the CLIP config.json (null when absent),
/// max_new_tokens and legacy_tokenizer. Device, dtype, threads and the KV cache are left out: they do not change
/// the outputs (shards may run on different devices).
nlohmann::ordered_json run_identity(const InferRequest& r, const ItemList& list, const model::GlammOptions& mo);

/// The model options of a request on shard `s` ("cuda" becomes "cuda:<LOCAL_RANK>" under torchrun).
model::GlammOptions model_options(const InferRequest& r, const Shard& s);

/// Resolve the shard (--shard, else the environment `env`), build the list, load the model with `factory` and
/// run this shard (runners::run_items). Progress and failures go to `log`. Throws InputError for bad options or
/// inputs and when `out` holds outputs of another identity (all before loading the model). When every item of
/// the shard is done the model is not loaded and the manifest keeps the previous model record.
RunSummary run_inference(const InferRequest& r, const ModelFactory& factory, const EnvLookup& env, std::ostream& log);

}  // namespace glamm::runners
