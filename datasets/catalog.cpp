// GLaMM data layout catalogue (dataset-formats.md §2, §4.1, §6.1, §7.1, §8).
#include "datasets/catalog.h"

#include <system_error>

namespace glamm::datasets::catalog {

const std::vector<Entry>& entries() {
  static const std::vector<Entry> e = {
      {"refseg", "refcoco", "Refer_Segm/refcoco/instances.json", false, "", "[code] REFER archive"},
      {"refseg", "refcoco", "Refer_Segm/refcoco/refs(unc).p", false, "", "[code] splits train/val/testA/testB"},
      {"refseg", "refcoco", "Refer_Segm/refcoco/refs(google).p", false, "", "[public] not used by GLaMM's eval"},
      {"refseg", "refcoco+", "Refer_Segm/refcoco+/instances.json", false, "", "[code] REFER archive"},
      {"refseg", "refcoco+", "Refer_Segm/refcoco+/refs(unc).p", false, "", "[code] splits train/val/testA/testB"},
      {"refseg", "refcocog", "Refer_Segm/refcocog/instances.json", false, "", "[code] REFER archive"},
      {"refseg", "refcocog", "Refer_Segm/refcocog/refs(umd).p", false, "", "[code] splits train/val/test"},
      {"refseg", "refcocog", "Refer_Segm/refcocog/refs(google).p", false, "", "[public] train/val only"},
      {"refseg", "coco_2014", "Refer_Segm/coco_2014/train2014", true, "coco_2014/train2014",
       "[code] images as ReferSegmDataset resolves them (docs: coco_2014/train2014)"},
      {"regcap", "refcocog", "RefCoco_Reg/mdetr_annotations/finetune_refcocog_val_captions.json", false, "",
       "[code] GLaMM-specific GT, not in the MDETR archive"},
      {"regcap", "refcocog", "coco_2014/train2014", true, "", "[code] images"},
      {"regcap", "vg", "visual_genome/test_caption.json", false, "", "[code] GLaMM's VG test subset"},
      {"regcap", "vg", "visual_genome/images", true, "", "[code] images"},
      {"gcg", "grandf", "GranDf/annotations/val_test/val_gcg_coco_caption_gt.json", false, "", "[code]"},
      {"gcg", "grandf", "GranDf/annotations/val_test/val_gcg_coco_mask_gt.json", false, "", "[code]"},
      {"gcg", "grandf", "GranDf/annotations/val_test/test_gcg_coco_caption_gt.json", false, "", "[code]"},
      {"gcg", "grandf", "GranDf/annotations/val_test/test_gcg_coco_mask_gt.json", false, "", "[code]"},
      {"gcg", "grandf", "GranDf/GranDf_HA_images/val_test", true, "GranDf_HA_images/val_test",
       "[code] images as infer.py resolves them (docs: GranDf_HA_images/val_test)"},
      {"captions", "coco", "coco_2017/annotations/captions_val2017.json", false, "", "[code]"},
      {"imagecap", "flickr30k", "flickr30k/dataset_flickr30k.json", false, "", "[ours] Karpathy split file"},
      {"imagecap", "nocaps", "nocaps/nocaps_val_4500_captions.json", false, "", "[ours] NoCaps val"},
      {"train", "mdetr", "RefCoco_Reg/mdetr_annotations/finetune_refcocog_val.json", false, "", "[code] MDETR"},
      {"train", "flickr30k", "flikcr_30k/train", true, "flikcr_30k/flickr30k-images", "[code] (sic: flikcr)"},
  };
  return e;
}

std::vector<Status> scan(const std::filesystem::path& root) {
  std::vector<Status> out;
  for (const Entry& e : entries()) {
    Status s{e, false, ""};
    for (const std::string& p : {e.path, e.alternative}) {
      if (p.empty()) continue;
      std::error_code ec;
      const auto full = root / p;
      const bool ok = e.is_dir ? std::filesystem::is_directory(full, ec) : std::filesystem::is_regular_file(full, ec);
      if (ok) {
        s.found = true;
        s.found_path = full.string();
        break;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace glamm::datasets::catalog
