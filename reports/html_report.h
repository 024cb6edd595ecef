// `glamm-eval report`: one self-contained HTML page per run — metrics table, failure breakdown, the AP
// precision–recall curve and the per-image mIoU distribution as inline SVG, and the worst images with predicted
// vs. ground-truth masks overlaid (when --images is given).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "reports/overlay.h"
#include "reports/record.h"

namespace glamm::reports {

struct ReportOptions {
  std::string images_dir;  ///< folder with the images (GT `file_name`s); "" = the record's inputs.images, if any
                           ///< (gcg --sample records its kept images there), else no overlays
  int worst = 8;           ///< how many lowest-mIoU images to show
  /// Largest image (and mask) an overlay decodes, width × height; a larger one is refused from its header
  /// (reports::overlay_jpeg) and becomes a note and a warning. `report --max-image-pixels`.
  uint64_t max_image_pixels = kDefaultMaxImagePixels;
};

/// Rows of the failure breakdown (details.failure_breakdown: reason → count) as "reason: count" pairs in a fixed,
/// readable order (missing prediction, parse error, empty caption, no mask, fewer/more masks than phrases, empty
/// mask, wrong-size mask, then any other keys). Empty when the record has none.
std::vector<std::pair<std::string, long long>> failure_breakdown(const RunRecord& r);

/// The HTML page. A record made from synthetic data (RunRecord::synthetic) says so in a banner under the title.
/// Overlays read, per worst sample, `prediction_file` (else inputs.predictions/<id>.json) for `pred_masks`, and
/// inputs.mask_gt for the GT masks and `file_name` (else <id>.jpg) under `images_dir`; a missing, unreadable or too
/// large image (above opt.max_image_pixels) or an unreadable prediction becomes a note on the page and a line in
/// `*warnings` ("no overlay for <id>: <file>: <reason>"), not an error. Throws InputError for a record it cannot
/// interpret (as Aggregator) and for an `images_dir` that is not a folder.
std::string render_html_report(const RunRecord& r, const ReportOptions& opt,
                               std::vector<std::string>* warnings = nullptr);

}  // namespace glamm::reports
