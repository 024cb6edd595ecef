#include "reports/html_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "common/error.h"
#include "eval/tasks/resampling.h"
#include "datasets/grandf.h"
#include "datasets/json_util.h"
#include "reports/aggregate.h"
#include "reports/overlay.h"
#include "reports/svg_plot.h"

namespace glamm::reports {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<std::pair<std::string, long long>> failure_breakdown(const RunRecord& r) {
  std::vector<std::pair<std::string, long long>> out;
  auto fb = r.details.find("failure_breakdown");
  if (fb == r.details.end() || !fb->is_object()) return out;
  static const std::vector<std::pair<std::string, std::string>> known = {
      {"missing_prediction", "missing prediction file"}, {"parse_error", "parse error"},
      {"empty_caption", "empty caption"},                 {"no_masks", "no [SEG] / no mask"},
      {"no_seg", "no [SEG] / no mask"},                   {"fewer_masks_than_phrases", "fewer masks than phrases"},
      {"more_masks_than_phrases", "more masks than phrases"}, {"empty_mask", "empty mask"},
      {"wrong_size_mask", "mask of the wrong size"}};
  std::vector<std::string> seen;
  for (const auto& [key, text] : known) {
    auto it = fb->find(key);
    if (it == fb->end() || !it->is_number()) continue;
    out.emplace_back(text, it->get<long long>());
    seen.push_back(key);
  }
  for (auto it = fb->begin(); it != fb->end(); ++it)
    if (it->is_number() && std::find(seen.begin(), seen.end(), it.key()) == seen.end())
      out.emplace_back(it.key(), it->get<long long>());
  return out;
}

namespace {

const char* kStyle = R"css(
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 6px 0; }
h2 { font-size: 17px; margin: 22px 0 8px 0; }
.meta { color: #555; font-size: 13px; }
table { border-collapse: collapse; font-size: 14px; background: #fff; }
th, td { border: 2px solid #2b5c8a; padding: 4px 10px; text-align: right; }
th { background: #2b5c8a; color: #fff; }
td.name { text-align: left; }
.plots { display: flex; gap: 24px; flex-wrap: wrap; }
.plot { background: #fff; border: 1px solid #ccc; padding: 6px; }
.worst { display: flex; gap: 16px; flex-wrap: wrap; }
.worst figure { margin: 0; background: #fff; border: 1px solid #ccc; padding: 6px; max-width: 500px; }
.worst img { display: block; min-width: 256px; image-rendering: pixelated; }
.note { color: #8a4b00; font-size: 13px; }
.synthetic { margin: 8px 0; padding: 6px 10px; background: #fff3cd; border: 1px solid #d39e00; font-size: 14px; }
code { font-size: 12px; word-break: break-all; }
)css";

std::string input_path(const RunRecord& r, const char* role) {
  auto it = r.inputs.find(role);
  return it != r.inputs.end() ? it->second : "";
}

// GT masks and file names per image id from the record's mask GT (inputs.mask_gt), read as gcg reads it
// (datasets::grandf::load_mask_gt): compressed RLEs are drawn; other forms (which gcg refuses) are counted.
struct MaskGt {
  std::unordered_map<std::string, std::string> file_name;
  std::unordered_map<std::string, std::vector<mask::Rle>> masks;  // image id → GT RLEs in file order
  std::size_t not_drawn = 0;                                      // annotations that are not compressed RLE
};

MaskGt load_mask_gt(const std::string& path) {
  datasets::grandf::MaskGt file = datasets::grandf::load_mask_gt(path);
  MaskGt g;
  g.file_name = std::move(file.file_names);
  for (auto& a : file.annotations) {
    if (a.rle)
      g.masks[a.image_id].push_back(std::move(*a.rle));
    else
      ++g.not_drawn;
  }
  return g;
}

}  // namespace

std::string render_html_report(const RunRecord& r, const ReportOptions& in_opt, std::vector<std::string>* warnings) {
  if (!in_opt.images_dir.empty()) {  // a folder the user named must exist; a record's own (inputs.images) may not
    std::error_code ec;
    if (!fs::is_directory(in_opt.images_dir, ec))
      throw InputError(in_opt.images_dir, "--images",
                       fs::exists(in_opt.images_dir, ec) ? "is not a folder" : "no such folder");
  }
  Aggregator agg(r);
  ReportOptions opt = in_opt;
  if (opt.images_dir.empty()) opt.images_dir = input_path(r, "images");  // e.g. gcg --sample's kept images
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>glamm-eval report: " + html_escape(r.label) + " " + html_escape(r.task) + "</title>\n";
  h += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  h += "<h1>" + html_escape(r.task) + " · " + html_escape(r.dataset) + " " + html_escape(r.split) + " · " +
       html_escape(r.label) + "</h1>\n";
  std::string ts;
  ts = r.timestamp;
  h += "<div class=\"meta\">" + html_escape(r.written_by) + " · " + html_escape(ts) + " · " +
       std::to_string(agg.size()) + " samples · record <code>" + html_escape(r.path) + "</code></div>\n";
  if (r.synthetic())
    h += "<div class=\"synthetic\" id=\"synthetic-data\">Data: " + html_escape(r.signature_value("data")) +
         ". These numbers come from glamm-eval's built-in demonstration set, not from a benchmark: they show that the "
         "tool runs and are no model's score.</div>\n";

  // Metrics.
  h += "<h2>Metrics</h2>\n<table id=\"metrics\">\n<tr><th>metric</th><th>value</th><th>×100</th></tr>\n";
  for (const auto& [name, v] : r.metrics)
    h += fmt::format("<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(name),
                     std::isnan(v) ? "n/a" : fmt::format("{:.4f}", v), std::isnan(v) ? "" : fmt::format("{:.1f}", v * 100));
  h += "</table>\n<div class=\"meta\">signature: <code>" + html_escape(r.signature.str()) + "</code></div>\n";

  // Failure breakdown.
  const auto fb = failure_breakdown(r);
  if (!fb.empty()) {
    h += "<h2>Failure breakdown</h2>\n<table id=\"failures\">\n<tr><th>reason</th><th>samples</th></tr>\n";
    for (const auto& [reason, count] : fb)
      h += fmt::format("<tr><td class=\"name\">{}</td><td>{}</td></tr>\n", html_escape(reason), count);
    h += "</table>\n";
  }

  // Plots.
  h += "<h2>Plots</h2>\n<div class=\"plots\">\n";
  const std::vector<double> p50 = agg.precision_curve(0.5), p75 = agg.precision_curve(0.75);
  if (!p50.empty()) {
    std::vector<SvgSeries> series;
    auto add = [&](const std::vector<double>& p, const std::string& color, const std::string& label,
                   const std::string& dash, const std::string& marker) {
      SvgSeries s{{}, color, label, dash, marker};
      for (std::size_t k = 0; k < p.size(); ++k)
        if (p[k] >= 0) s.points.emplace_back(static_cast<double>(k) / static_cast<double>(p.size() - 1), p[k]);
      series.push_back(s);
    };
    // Solid red with circles under dashed blue with squares: equal curves stay visible as both.
    add(p50, "#d62728", "IoU 0.50", "", "circle");
    add(p75, "#1f77b4", "IoU 0.75", "7 5", "square");
    h += "<div class=\"plot\"><div>AP precision–recall (area all, maxDets 100)</div>\n" +
         svg_line_plot("pr-curve", series, "recall", "precision") + "</div>\n";
  } else {
    h += "<div class=\"note\">No precision–recall curve: the record has no per-image match records.</div>\n";
  }
  std::vector<double> miou;
  for (std::size_t i = 0; i < agg.size(); ++i) {
    double v;
    if (agg.sample_score("mIoU", i, v)) miou.push_back(v);
  }
  if (!miou.empty())
    h += "<div class=\"plot\"><div>per-image mIoU (" + std::to_string(miou.size()) + " images)</div>\n" +
         svg_histogram("miou-histogram", miou, 10, "#2ca02c", "mIoU") + "</div>\n";
  h += "</div>\n";

  // Worst images.
  if (!miou.empty() && opt.worst > 0) {
    std::vector<std::size_t> order(agg.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      double x = 0, y = 0;
      agg.sample_score("mIoU", a, x);
      agg.sample_score("mIoU", b, y);
      return x < y;
    });
    order.resize(std::min(order.size(), static_cast<std::size_t>(opt.worst)));
    h += fmt::format("<h2>Worst {} images by mIoU</h2>\n", order.size());
    const std::string mask_gt_path = input_path(r, "mask_gt");
    MaskGt gt;
    std::string gt_note;
    if (!opt.images_dir.empty()) {
      try {
        if (mask_gt_path.empty()) throw InputError(r.path, "inputs", "no mask_gt path in the record");
        gt = load_mask_gt(mask_gt_path);
        for (std::string& w : datasets::take_duplicate_key_warnings())
          if (warnings) warnings->push_back(std::move(w));
      } catch (const std::exception& e) {
        gt_note = e.what();
      }
    }
    if (opt.images_dir.empty())
      h += "<div class=\"note\">Overlays need the images: pass --images DIR.</div>\n";
    else if (!gt_note.empty())
      h += "<div class=\"note\">No overlays: " + html_escape(gt_note) + "</div>\n";
    else if (gt.not_drawn > 0) {
      const std::string n = fmt::format("{} ground-truth annotation(s) of {} are not compressed RLE and are not drawn",
                                        gt.not_drawn, mask_gt_path);
      h += "<div class=\"note\">" + html_escape(n) + "</div>\n";
      if (warnings) warnings->push_back(n);
    }
    h += "<div class=\"worst\">\n";
    const tasks::DrillDown drill = tasks::read_drill_down(r);
    const std::string pred_dir = input_path(r, "predictions");
    for (std::size_t i : order) {
      const std::string& id = agg.sample_ids()[i];
      double v = 0;
      agg.sample_score("mIoU", i, v);
      const std::string& caption = drill.captions[i];
      h += "<figure class=\"sample\">";
      if (!opt.images_dir.empty() && gt_note.empty()) {
        try {
          const std::string pred_file = !drill.prediction_files[i].empty()
                                            ? drill.prediction_files[i]
                                            : (fs::path(pred_dir) / (id + ".json")).string();
          // The GCG prediction reader (flat or nested form), as gcg itself reads the file.
          const auto pred = datasets::grandf::load_prediction_file(pred_file, id);
          for (std::string& w : datasets::take_duplicate_key_warnings())
            if (warnings) warnings->push_back(std::move(w));
          if (!pred) throw InputError(pred_file, "", "no such prediction file");
          const std::vector<mask::Rle> pred_rles = datasets::grandf::pred_mask_rles(*pred);
          auto ga = gt.masks.find(id);
          const std::vector<mask::Rle> no_gt;
          const std::vector<mask::Rle>& gt_rles = ga == gt.masks.end() ? no_gt : ga->second;
          auto fn = gt.file_name.find(id);
          const std::string image = (fs::path(opt.images_dir) / (fn == gt.file_name.end() ? id + ".jpg" : fn->second)).string();
          h += "<img alt=\"" + html_escape(id) + "\" src=\"data:image/jpeg;base64," +
               base64(overlay_jpeg(image, gt_rles, pred_rles, 480, opt.max_image_pixels)) + "\">";
        } catch (const std::exception& e) {
          h += "<div class=\"note\">no overlay: " + html_escape(e.what()) + "</div>";
          if (warnings) warnings->push_back("no overlay for " + id + ": " + e.what());
        }
      }
      h += fmt::format("<figcaption><b>{}</b> · mIoU {:.3f}<br>{}</figcaption></figure>\n", html_escape(id), v,
                       html_escape(caption));
    }
    h += "</div>\n<div class=\"meta\">red: predicted masks · green outline: ground truth</div>\n";
  }
  for (const auto& n : agg.notes()) h += "<div class=\"note\">" + html_escape(n) + "</div>\n";
  h += "<script>console.log('glamm-report: rendered ' + document.querySelectorAll('svg').length + ' plots');</script>\n";
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace glamm::reports
