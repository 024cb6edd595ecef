// `glamm-eval report`: one self-contained HTML page per run — metrics table, failure breakdown, the AP
// precision–recall curve and the per-image mIoU distribution as inline SVG, and the worst images with predicted
// vs. ground-truth masks overlaid (when --images is given).
#pragma once

#include <string>

#include "reports/record.h"

namespace glamm::reports {

struct ReportOptions {
  std::string images_dir;  ///< folder with the images (GT `file_name`s); "" = the record's inputs.images, if any
                           ///< (gcg --sample records its kept images there), else no overlays
  int worst = 8;           ///< how many lowest-mIoU images to show
};

/// Rows of the failure breakdown (details.failure_breakdown: reason → count) as "reason: count" pairs in a fixed,
/// readable order (missing prediction, parse error, empty caption, no mask, fewer/more masks than phrases, empty
/// mask, wrong-size mask, then any other keys). Empty when the record has none.
std::vector<std::pair<std::string, long long>> failure_breakdown(const RunRecord& r);

/// The HTML page. A record made from synthetic data (RunRecord::synthetic) says so in a banner under the title.
/// Overlays read, per worst sample, `prediction_file` (else inputs.predictions/<id>.json) for
/// `pred_masks`, and inputs.mask_gt for the GT masks and `file_name` (else <id>.jpg) under `images_dir`; an
/// unreadable image or prediction becomes a note on the page, not an error. Throws InputError only for a record
/// it cannot interpret (as Aggregator).
std::string render_html_report(const RunRecord& r, const ReportOptions& opt);

}  // namespace glamm::reports
