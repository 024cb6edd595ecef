// Work lists of the inference tasks. See items.h.
#include "runners/items.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "datasets/flickr30k.h"
#include "datasets/grandf.h"
#include "datasets/nocaps.h"
#include "datasets/refer.h"
#include "datasets/regcap.h"

namespace glamm::runners {

namespace fs = std::filesystem;

const char* const kGcgInstruction =
    "Could you please give me a detailed description of the image? Please respond with interleaved     "
    "segmentation masks for the corresponding parts of the answer.";
const char* const kRegcapInstruction =
    "Can you provide me with a detailed description of the region in the picture marked by <bbox>?";
const char* const kImagecapInstruction = "Could you please give me a detailed description of the image?";
const char* const kRefsegTfQuestion = "Can you segment the {x} in this image?";
const char* const kRefsegTfAnswer = "Sure, [SEG].";
const char* const kRefsegGenQuestion = "Please segment {x} in this image.";

std::string task_name(Task t) {
  switch (t) {
    case Task::kGcg: return "gcg";
    case Task::kRegcap: return "regcap";
    case Task::kRefseg: return "refseg";
    case Task::kImagecap: return "imagecap";
  }
  return "?";
}

Task parse_task(const std::string& name) {
  for (Task t : {Task::kGcg, Task::kRegcap, Task::kRefseg, Task::kImagecap})
    if (task_name(t) == name) return t;
  throw InputError("", "task", "'" + name + "' is not one of gcg, regcap, refseg, imagecap");
}

std::string fill_template(const std::string& tmpl, const std::string& x) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t at = tmpl.find("{x}", pos);
    if (at == std::string::npos) break;
    out.append(tmpl, pos, at - pos);
    out += x;
    pos = at + 3;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

std::string safe_key(const std::string& id) {
  std::string k = id;
  for (char& c : k)
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  if (k.empty() || k[0] == '.') k = "_" + k;
  return k;
}

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

/// Image files of a folder, sorted by name; non-image files counted.
std::vector<fs::path> list_images(const fs::path& dir, std::size_t& skipped) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InputError(dir.string(), "", "image folder not found");
  std::vector<fs::path> files;
  skipped = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    if (is_image_file(e.path())) {
      files.push_back(e.path());
    } else {
      ++skipped;
    }
  }
  if (ec) throw InputError(dir.string(), "", "cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(dir.string(), "", "no image files (.jpg .jpeg .png .bmp .webp) in the folder");
  return files;
}

/// Check that keys are unique; throws naming both sources.
void check_unique_keys(const ItemList& l) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < l.items.size(); ++i) {
    auto [it, fresh] = seen.emplace(l.items[i].key, i);
    if (!fresh)
      throw InputError(l.source, "", fmt::format("two items map to the output name '{}': {} and {}", l.items[i].key,
                                                 l.items[it->second].image.string(), l.items[i].image.string()));
  }
}

nlohmann::ordered_json id_json(const caption::ImageId& id) {
  return id.is_string ? nlohmann::ordered_json(id.text) : nlohmann::ordered_json(id.number);
}

std::string id_text(const caption::ImageId& id) { return id.is_string ? id.text : std::to_string(id.number); }

ItemList folder_items(Task task, const fs::path& images_dir, const char* instruction) {
  ItemList l;
  l.task = task;
  l.source = images_dir.string();
  std::size_t skipped = 0;
  for (const fs::path& f : list_images(images_dir, skipped)) {
    WorkItem w;
    w.key = safe_key(f.stem().string());
    w.image = f;
    w.instruction = instruction;
    w.image_id = f.stem().string();
    l.items.push_back(std::move(w));
  }
  if (skipped) l.warnings.push_back(fmt::format("{} non-image file(s) in {} skipped", skipped, images_dir.string()));
  check_unique_keys(l);
  return l;
}

}  // namespace

ItemList gcg_items_from_folder(const fs::path& images_dir) { return folder_items(Task::kGcg, images_dir, kGcgInstruction); }

ItemList gcg_items_from_grandf(const fs::path& caption_gt, const fs::path& images_dir) {
  const datasets::grandf::CaptionGt gt = datasets::grandf::load_caption_gt(caption_gt);
  ItemList l;
  l.task = Task::kGcg;
  l.source = caption_gt.string();
  for (const std::string& id : gt.image_ids) {
    WorkItem w;
    w.key = safe_key(id);
    w.image = images_dir / (id + ".jpg");
    w.instruction = kGcgInstruction;
    w.image_id = id;  // the official file names its image_id after the file stem (a string)
    l.items.push_back(std::move(w));
  }
  check_unique_keys(l);
  return l;
}

ItemList regcap_items(const fs::path& annotations, const fs::path& images_dir) {
  ItemList l;
  l.task = Task::kRegcap;
  l.source = annotations.string();
  const datasets::RegionCapGt gt = datasets::load_region_caption_gt(annotations, l.warnings);
  std::vector<std::string> no_box;
  for (const datasets::CaptionSample& s : gt.samples) {
    if (!s.has_box) {
      no_box.push_back(s.image_id.display());
      continue;
    }
    WorkItem w;
    w.key = safe_key(id_text(s.image_id));
    w.image = images_dir / s.file_name;
    w.instruction = kRegcapInstruction;
    const auto& b = s.bbox_xywh;
    w.boxes.push_back({b[0], b[1], b[0] + b[2], b[1] + b[3]});
    w.image_id = id_json(s.image_id);
    l.items.push_back(std::move(w));
  }
  if (!no_box.empty()) {
    std::string ids;
    for (std::size_t k = 0; k < no_box.size() && k < 10; ++k) ids += (k ? ", " : "") + no_box[k];
    l.warnings.push_back(fmt::format("{} image entr{} without an annotation whose id equals the image id (no box to "
                                     "prompt with) left out: {}{}",
                                     no_box.size(), no_box.size() == 1 ? "y" : "ies", ids,
                                     no_box.size() > 10 ? ", ..." : ""));
  }
  check_unique_keys(l);
  return l;
}

ItemList refseg_items(const fs::path& refer_dir, const std::string& dataset, const std::string& split_by_in,
                      const std::string& split, const fs::path& images_dir, bool generate) {
  namespace refer = datasets::refer;
  const std::string split_by = split_by_in.empty() ? refer::default_split_by(dataset) : split_by_in;
  refer::split_names(dataset, split_by);
  const fs::path refs_file = refer_dir / ("refs(" + split_by + ").p");
  const fs::path inst_file = refer_dir / "instances.json";
  for (const fs::path& f : {refs_file, inst_file})
    if (!fs::exists(f)) throw InputError(f.string(), "", "file not found (REFER layout: <data-root>/Refer_Segm/<dataset>/)");
  const refer::RefsFile refs = refer::load_refs(refs_file);
  const refer::Instances inst = refer::load_instances(inst_file);
  const refer::Split sp = refer::select_split(refs, inst, dataset, split_by, split);
  ItemList l;
  l.task = Task::kRefseg;
  l.source = refs_file.string();
  l.dataset = dataset;
  l.split_by = split_by;
  l.split = split;
  l.refseg_generate = generate;
  for (const auto& [b, e] : sp.items) {
    const refer::Sample& first = sp.samples[b];
    const refer::Image& im = inst.images[first.image];
    WorkItem w;
    w.key = std::to_string(first.image_id);
    w.image = images_dir / im.file_name;
    w.image_id = first.image_id;
    w.refer_image_id = first.image_id;
    for (std::size_t k = b; k < e; ++k)
      w.sentences.push_back({sp.samples[k].sent_id, sp.samples[k].ref_id, sp.samples[k].sentence});
    l.items.push_back(std::move(w));
  }
  check_unique_keys(l);
  return l;
}

ItemList imagecap_items(const std::string& dataset, const fs::path& annotations, const std::string& split,
                        const fs::path& images_dir) {
  if (dataset == "folder") return folder_items(Task::kImagecap, images_dir, kImagecapInstruction);
  std::vector<datasets::CaptionSample> samples;
  if (dataset == "flickr30k") {
    samples = datasets::flickr30k::load(annotations, split.empty() ? "test" : split).samples;
  } else if (dataset == "nocaps") {
    samples = datasets::nocaps::load(annotations).samples;
  } else {
    throw InputError("", "--dataset", "image captioning datasets are flickr30k, nocaps and folder (got '" + dataset + "')");
  }
  ItemList l;
  l.task = Task::kImagecap;
  l.source = annotations.string();
  for (const auto& s : samples) {
    WorkItem w;
    w.key = safe_key(id_text(s.image_id));
    w.image = images_dir / s.file_name;
    w.instruction = kImagecapInstruction;
    w.image_id = id_json(s.image_id);
    l.items.push_back(std::move(w));
  }
  check_unique_keys(l);
  return l;
}

std::vector<std::vector<model::ChatRound>> refseg_conversations(const WorkItem& item, std::size_t rounds_per_chat) {
  std::vector<std::vector<model::ChatRound>> chats;
  const std::size_t r = std::max<std::size_t>(1, rounds_per_chat);
  for (std::size_t b = 0; b < item.sentences.size(); b += r) {
    std::vector<model::ChatRound> chat;
    for (std::size_t k = b; k < std::min(item.sentences.size(), b + r); ++k)
      chat.push_back({fill_template(kRefsegTfQuestion, item.sentences[k].text), kRefsegTfAnswer});
    chats.push_back(std::move(chat));
  }
  return chats;
}

}  // namespace glamm::runners
