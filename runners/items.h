// The work lists of the four GLaMM inference tasks: which images to run, with which instruction, region boxes or
// teacher-forced conversation, and what each output record must carry (ids). Torch-free; the model is behind
// model::InferenceModel. Reference: groundingLMM eval/gcg/infer.py, eval/region_captioning/infer.py,
// eval/referring_seg/infer_and_evaluate.py (ReferSegmDataset). Spec: glamm-model.md §3.5; dataset-formats.md §4,
// §6, §7, §8.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/glamm.h"

namespace glamm::runners {

/// The four tasks `glamm-eval infer` runs.
enum class Task { kGcg, kRegcap, kRefseg, kImagecap };

/// "gcg", "regcap", "refseg", "imagecap".
std::string task_name(Task t);
/// Inverse of task_name; throws InputError for another name.
Task parse_task(const std::string& name);

/// The instructions (glamm-model.md §3.5, verbatim; the GCG one has 5 spaces before "segmentation").
extern const char* const kGcgInstruction;
extern const char* const kRegcapInstruction;    ///< one "<bbox>"
extern const char* const kImagecapInstruction;
/// Referring segmentation, teacher-forced (the official evaluation's mode, with the template choice fixed, see
/// refseg_items): question "Can you segment the {x} in this image?", answer "Sure, [SEG]." (SEG_QUESTIONS[0] and
/// ANSWER_LIST[1] of groundingLMM dataset/utils/utils.py; the official script picks both at random, unseeded).
extern const char* const kRefsegTfQuestion;  ///< contains "{x}"
extern const char* const kRefsegTfAnswer;
/// Referring segmentation, generative: "Please segment {x} in this image." (a SEG_QUESTIONS template).
extern const char* const kRefsegGenQuestion;

/// One sentence of a referring-segmentation item.
struct RefSentence {
  int64_t sent_id = 0, ref_id = 0;
  std::string text;
};

/// One unit of work = one output file. `key` names the file (unique within the list, no '/').
struct WorkItem {
  std::string key;
  std::filesystem::path image;
  std::string instruction;                 ///< generation input (GCG, region and image captioning, refseg generate)
  std::vector<model::RegionBox> boxes;     ///< region captioning: one per <bbox>, pixels x1,y1,x2,y2
  nlohmann::ordered_json image_id;         ///< id written to the output records (JSON type as in the GT)
  int64_t refer_image_id = 0;              ///< refseg: instances.json image id
  std::vector<RefSentence> sentences;      ///< refseg: the image's sentences of the split, in ReferSegmDataset order
};

/// An item list and where it came from.
struct ItemList {
  Task task = Task::kGcg;
  std::string source;                  ///< annotation file or image folder
  std::vector<WorkItem> items;
  std::vector<std::string> warnings;   ///< e.g. samples that cannot be inferred (listed, left out)
  // refseg record fields
  std::string dataset, split_by, split;
  bool refseg_generate = false;        ///< generative "Please segment …" mode instead of teacher forcing
};

/// GCG over every image file of `images_dir` (extensions .jpg .jpeg .png .bmp .webp, any case; other files are
/// skipped with one warning), sorted by file name; key = image_id = file name without its extension. (infer.py
/// cuts the last 4 characters, which turns "x.jpeg" into "x.j"; the stem is used here.) Throws InputError for a
/// missing folder, no images, or two files with the same stem.
ItemList gcg_items_from_folder(const std::filesystem::path& images_dir);

/// GCG over the images of a GranD-f caption GT file (`{split}_gcg_coco_caption_gt.json`), in its images[] order:
/// image `images_dir/<id>.jpg`, key = image_id = the GT id (what `glamm-eval gcg` opens). Throws InputError as
/// datasets::grandf::load_caption_gt does.
ItemList gcg_items_from_grandf(const std::filesystem::path& caption_gt, const std::filesystem::path& images_dir);

/// Region captioning over a region-caption GT file (RefCOCOg finetune_refcocog_val_captions.json, VG
/// test_caption.json; read by datasets::load_region_caption_gt), images[] order as RegionCapDDP: one item per image
/// entry with the box of the annotation whose id equals the image id, COCO xywh → x1,y1,x2,y2 = x, y, x+w, y+h;
/// image `images_dir/<file_name>`; key = the image id as text; image_id = the GT id with its JSON type. Entries
/// without such an annotation are left out and counted in a warning (the reference fails on them).
ItemList regcap_items(const std::filesystem::path& annotations, const std::filesystem::path& images_dir);

/// Referring segmentation over a REFER split (refs(<split_by>).p + instances.json in `refer_dir`): one item per
/// image (datasets::refer::select_split order) holding all its sentences of the split; image
/// `images_dir/<file_name>`; key = the image id. Every sentence is inferred (the toolkit's refseg default; the
/// official evaluation draws ≤ 3 per image at random). Throws InputError as the REFER loaders do.
ItemList refseg_items(const std::filesystem::path& refer_dir, const std::string& dataset, const std::string& split_by,
                      const std::string& split, const std::filesystem::path& images_dir, bool generate);

/// Image captioning: `dataset` "flickr30k" (Karpathy dataset_flickr30k.json, `split`, image_id = photo id),
/// "nocaps" (nocaps_val_4500_captions.json / test image info, image_id = images[].id) or "folder" (every image of
/// `images_dir`, image_id = the stem as a string; `annotations` unused). Image `images_dir/<file name>`.
ItemList imagecap_items(const std::string& dataset, const std::filesystem::path& annotations, const std::string& split,
                        const std::filesystem::path& images_dir);

/// The teacher-forced conversations of a refseg item: its sentences in order, cut into conversations of at most
/// `rounds_per_chat` rounds (3 = the official evaluation's maximum per image), each round
/// {kRefsegTfQuestion with {x} = sentence, kRefsegTfAnswer}; chat c holds sentences [c·R, min((c+1)·R, n)).
std::vector<std::vector<model::ChatRound>> refseg_conversations(const WorkItem& item, std::size_t rounds_per_chat = 3);

/// `template` with every "{x}" replaced by `x`.
std::string fill_template(const std::string& tmpl, const std::string& x);

/// A file-name-safe key from an id: '/' and '\\' and NUL become '_'; "" and names starting with '.' get a '_'
/// prefix.
std::string safe_key(const std::string& id);

}  // namespace glamm::runners
