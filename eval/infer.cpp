// `glamm-eval infer <gcg|regcap|refseg|imagecap>`: run GLaMM over a task's images and write the prediction files the
// evaluators read (runners/runner.h describes the output folder, resume and the failure policy). The model comes
// from the plugin libglamm_runner.so (runners/model_plugin.h), so glamm-eval itself never links libtorch.
// Exit status: 0 when every item of the shard has its output, 2 for bad options/inputs, for an output folder that
// holds another model's / other options' outputs, or when some items failed (each failure is printed and listed in
// the manifest; rerunning the same command retries only those); 130 / 143 when SIGINT / SIGTERM stopped the run
// after the current item (manifest status "interrupted"; rerun to resume).
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "common/error.h"
#include "eval/command.h"
#include "runners/infer_driver.h"
#include "runners/interrupt.h"
#include "runners/model_plugin.h"

namespace glamm::cli {

/// Bind the `infer` options of `r` to `sub` (shared with `run`); `task_positional` adds the task argument.
void bind_infer_options(CLI::App* sub, runners::InferRequest& r) {
  sub->add_option("task", r.task, "gcg, regcap, refseg or imagecap")
      ->required()
      ->check(CLI::IsMember({"gcg", "regcap", "refseg", "imagecap"}));
  sub->add_option("--checkpoint", r.checkpoint, "GLaMM checkpoint folder (HF layout: config.json, tokenizer, shards)")
      ->required();
  sub->add_option("--clip", r.clip, "CLIP ViT-L/14-336 folder (openai/clip-vit-large-patch14-336 layout)")->required();
  sub->add_option("--images", r.images,
                  "Image folder (defaults under --data-root: GranDf/GranDf_HA_images/val_test for gcg, "
                  "coco_2014/train2014 for refcocog regions and refseg, visual_genome/images for vg)");
  sub->add_option("--out", r.out, "Output folder (shards may share it); created")->required();
  sub->add_option("--annotations", r.annotations,
                  "gcg: a GranD-f {split}_gcg_coco_caption_gt.json (its images, in GT order; default: every image of "
                  "--images); regcap: the region-caption GT; imagecap: dataset_flickr30k.json or the NoCaps file");
  sub->add_option("--data-root", r.data_root, "GLaMM's data folder (task defaults)")->capture_default_str();
  sub->add_option("--refer-dir", r.refer_dir, "refseg: folder with refs(<splitBy>).p and instances.json "
                                              "(default <data-root>/Refer_Segm/<dataset>)");
  sub->add_option("--dataset", r.dataset, "regcap: refcocog or vg; refseg: refcoco, refcoco+, refcocog; imagecap: "
                                          "flickr30k, nocaps or folder");
  sub->add_option("--split", r.split, "refseg split (default val); imagecap flickr30k split (default test)");
  sub->add_option("--split-by", r.split_by, "refseg: unc, umd, google (default: GLaMM's choice for the dataset)");
  sub->add_option("--refseg-mode", r.refseg_mode,
                  "refseg: tf = teacher-forced chats of <= 3 rounds 'Can you segment the {x} in this image?' / "
                  "'Sure, [SEG].' (the official protocol with a fixed template); generate = 'Please segment {x} in "
                  "this image.' and the first [SEG] mask")
      ->check(CLI::IsMember({"tf", "generate"}))
      ->capture_default_str();
  sub->add_option("--device", r.device,
                  "cpu, or cuda / cuda:N when the libtorch the plugin was built against has CUDA (Debian's has not; "
                  "the GPU path is not yet verified on a GPU: bench/README.md); cuda under torchrun means "
                  "cuda:$LOCAL_RANK")
      ->capture_default_str();
  sub->add_option("--dtype", r.dtype,
                  "Compute dtype: fp32 = the exactness reference (the official code's math in fp32; bf16 weights "
                  "up-cast per use); bf16 = the official evaluation's precision (model.bfloat16(): every component in "
                  "bf16 where the reference is, emulated on the CPU; results differ from fp32 in the last bits, and "
                  "greedy text can differ after near-ties)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  sub->add_option("--shard", r.shard,
                  "Run part k of N (0 <= k < N, contiguous blocks covering every item once); default from the "
                  "environment: a Slurm array (SLURM_ARRAY_TASK_ID + SLURM_ARRAY_TASK_COUNT, MIN/STEP optional), else "
                  "torchrun (RANK + WORLD_SIZE); the Slurm array wins when both are set; half a pair is an error; "
                  "else everything");
  sub->add_option("--max-new-tokens", r.max_new_tokens, "Generation limit (EOS included)")->capture_default_str();
  sub->add_option("--threads", r.threads, "libtorch threads (0: $OMP_NUM_THREADS if set, else all CPUs)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_flag("--no-kv-cache", [&r](std::int64_t) { r.kv_cache = false; },
                "Recompute the whole sequence at every step, as the reference does (slow; for checks)");
  sub->add_option("--limit", r.limit, "Only the first N items of the list (before sharding); 0 = all (the default)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--batch-size", r.batch_size,
                  "Generation requests decoded together (one forward pass per token for the whole batch; every "
                  "output is identical to running it alone); teacher-forced refseg always runs one item at a time")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--check-batch-invariance", r.check_batch_invariance,
                  "Re-run the first N batched items one at a time and report any difference (tokens, mask RLE, "
                  "mask IoU and differing pixels); in the log and the manifest's batch_invariance")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("-q,--quiet", r.quiet, "No per-item progress on stderr");
}

/// Run inference for `r` through the plugin; prints the summary. Returns it; failures leave exit status 2 to the
/// caller (see infer's file comment).
runners::RunSummary run_infer_command(const runners::InferRequest& r) {
  runners::RunSummary s;
  {
    const runners::InterruptGuard guard;  // SIGINT / SIGTERM: stop after the current item
    s = runners::run_inference(r, runners::load_model_plugin, [](const char* n) { return std::getenv(n); }, std::cerr);
  }
  std::cout << fmt::format("infer {}: items [{}, {}) of {}: {} computed, {} already done, {} failed\n", r.task,
                           s.shard_begin, s.shard_end, s.total, s.computed, s.resumed, s.failures.size());
  for (const auto& f : s.failures) std::cout << "  failed: " << f.key << ": " << f.message << "\n";
  if (s.invariance.items > 0) {
    std::cout << s.invariance.summary() << "\n";
    for (const auto& d : s.invariance.differences) std::cout << "  batch invariance: " << d << "\n";
  }
  const bool merged_file = r.task != "gcg";
  const std::string pred_name = r.task == "refseg" ? "predictions.jsonl" : "predictions.json";
  if (s.interrupted) {
    std::cout << fmt::format("interrupted by signal {} after the current item; manifest status \"interrupted\"; rerun "
                             "the same command to resume ({} item(s) of the list still have no output)\n",
                             s.interrupted, s.missing);
    std::cout << "manifest: " << s.manifest.string() << "\n";
    std::cout.flush();
    throw ExitRequest{128 + s.interrupted};
  }
  if (s.complete) {
    std::cout << "predictions: " << s.predictions.string() << "\n";
  } else if (merged_file && !s.failures.empty()) {
    std::cout << fmt::format(
        "{} NOT written: {} item(s) of the list have no output, {} of them failed in this run (listed above){}. "
        "Fix the unreadable images (or take their entries out of the annotation file / the images out of the "
        "folder) and rerun the same command: only the missing items are computed, then {} is written\n",
        pred_name, s.missing, s.failures.size(),
        s.removed_stale_predictions ? "; the " + pred_name + " of an earlier run (another item set) was removed" : "",
        pred_name);
  } else {
    std::cout << fmt::format("{} item(s) of the list have no output yet (other shards or failures); the merged "
                             "predictions are written by the run that completes the list\n",
                             s.missing);
    if (s.removed_stale_predictions)
      std::cout << "the " << pred_name << " of an earlier run (another item set) was removed\n";
  }
  std::cout << "manifest: " << s.manifest.string() << "\n";
  std::cout.flush();
  return s;
}

namespace {

void add_infer(CLI::App& app) {
  auto r = std::make_shared<runners::InferRequest>();
  CLI::App* sub = app.add_subcommand(
      "infer",
      "Run GLaMM inference (needs the libtorch plugin libglamm_runner.so) and write prediction files: gcg "
      "(<image_id>.json per image), regcap / imagecap (predictions.json), refseg (predictions.jsonl); sharded, "
      "resumable");
  bind_infer_options(sub, *r);
  sub->callback([r] {
    const runners::RunSummary s = run_infer_command(*r);
    if (!s.failures.empty()) throw ExitRequest{kBadInput};
  });
}

GLAMM_REGISTER_COMMAND(90, add_infer);

}  // namespace
}  // namespace glamm::cli
