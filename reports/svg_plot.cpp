#include "reports/svg_plot.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace glamm::reports {

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

struct Frame {
  int w, h;
  double left = 52, right = 14, top = 14, bottom = 44;
  double px(double x) const { return left + x * (w - left - right); }
  double py(double y) const { return top + (1.0 - y) * (h - top - bottom); }
};

// y_ticks: (position in [0, 1] of the plot height, label).
std::string axes(const Frame& f, const std::string& x_title, const std::string& y_title,
                 const std::vector<std::pair<double, std::string>>& y_ticks) {
  std::string s;
  s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#ffffff\" "
                   "stroke=\"#444444\" stroke-width=\"1\"/>\n",
                   f.left, f.top, f.w - f.left - f.right, f.h - f.top - f.bottom);
  for (int k = 0; k <= 5; ++k) {
    const double v = k / 5.0;
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#dddddd\"/>"
                     "<text x=\"{0:.1f}\" y=\"{3:.1f}\" font-size=\"11\" text-anchor=\"middle\">{4:.1f}</text>\n",
                     f.px(v), f.py(0), f.py(1), f.py(0) + 15, v);
  }
  for (const auto& [v, label] : y_ticks)
    s += fmt::format("<line x1=\"{1:.1f}\" y1=\"{0:.1f}\" x2=\"{2:.1f}\" y2=\"{0:.1f}\" stroke=\"#dddddd\"/>"
                     "<text class=\"ytick\" x=\"{3:.1f}\" y=\"{4:.1f}\" font-size=\"11\" text-anchor=\"end\">{5}"
                     "</text>\n",
                     f.py(v), f.px(0), f.px(1), f.px(0) - 5, f.py(v) + 4, html_escape(label));
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
                   (f.px(0) + f.px(1)) / 2, static_cast<double>(f.h) - 8, html_escape(x_title));
  s += fmt::format("<text x=\"14\" y=\"{0:.1f}\" font-size=\"12\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 14 {0:.1f})\">{1}</text>\n",
                   (f.py(0) + f.py(1)) / 2, html_escape(y_title));
  return s;
}

}  // namespace

std::vector<int> integer_ticks(int max_count) {
  max_count = std::max(1, max_count);
  int step = 1;
  for (int scale = 1;; scale *= 10) {
    bool found = false;
    for (int m : {1, 2, 5})
      if ((max_count + m * scale - 1) / (m * scale) <= 5) {
        step = m * scale;
        found = true;
        break;
      }
    if (found) break;
  }
  std::vector<int> ticks;
  for (int t = 0;; t += step) {
    ticks.push_back(t);
    if (t >= max_count) break;
  }
  return ticks;
}

std::string svg_line_plot(const std::string& id, const std::vector<SvgSeries>& series, const std::string& x_title,
                          const std::string& y_title, int width, int height) {
  Frame f{width, height};
  std::vector<std::pair<double, std::string>> yl;
  for (int k = 0; k <= 5; ++k) yl.emplace_back(k / 5.0, fmt::format("{:.1f}", k / 5.0));
  std::string s = fmt::format("<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
                              "viewBox=\"0 0 {} {}\" role=\"img\">\n",
                              html_escape(id), width, height, width, height);
  s += axes(f, x_title, y_title, yl);
  auto marker = [](const SvgSeries& se, double x, double y) -> std::string {
    if (se.marker == "circle")
      return fmt::format("<circle class=\"marker\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"4\" fill=\"#ffffff\" stroke=\"{}\" "
                         "stroke-width=\"2\"/>",
                         x, y, se.color);
    if (se.marker == "square")
      return fmt::format("<rect class=\"marker\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"7\" height=\"7\" fill=\"{}\"/>", x - 3.5,
                         y - 3.5, se.color);
    return "";
  };
  auto dash = [](const SvgSeries& se) {
    return se.dash.empty() ? std::string() : " stroke-dasharray=\"" + html_escape(se.dash) + "\"";
  };
  // Legend: a white box in the lower left (PR curves run high on the left and drop on the right).
  const double lh = 18, lx0 = f.px(0.03), lw = f.px(0.40) - f.px(0.03);
  double ly = f.py(0.03) - lh * static_cast<double>(series.size()) + 4;
  if (!series.empty())
    s += fmt::format("<rect class=\"legend-box\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                     "fill=\"#ffffff\" stroke=\"#bbbbbb\"/>\n",
                     lx0, ly - 12, lw, lh * static_cast<double>(series.size()) + 4);
  for (std::size_t si = 0; si < series.size(); ++si) {
    const SvgSeries& se = series[si];
    std::string pts, marks;
    const std::size_t phase = (si * 5) % 10;  // markers of the next series fall between this one's
    for (std::size_t k = 0; k < se.points.size(); ++k) {
      const double x = f.px(std::clamp(se.points[k].first, 0.0, 1.0)), y = f.py(std::clamp(se.points[k].second, 0.0, 1.0));
      pts += fmt::format("{:.2f},{:.2f} ", x, y);
      if (k % 10 == phase) marks += marker(se, x, y);
    }
    s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"{} points=\"{}\"/>\n", se.color, dash(se),
                     pts);
    s += marks + "\n";
    s += fmt::format("<g class=\"legend\"><line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
                     "stroke-width=\"2.5\"{7}/>{8}<text x=\"{4:.1f}\" y=\"{5:.1f}\" font-size=\"11\">{6}</text></g>\n",
                     lx0 + 6, ly, lx0 + 40, se.color, lx0 + 46, ly + 4, html_escape(se.label), dash(se),
                     marker(se, lx0 + 23, ly));
    ly += lh;
  }
  return s + "</svg>\n";
}

std::string svg_histogram(const std::string& id, const std::vector<double>& values, int bins, const std::string& color,
                          const std::string& x_title, int width, int height) {
  bins = std::max(1, bins);
  std::vector<int> count(static_cast<std::size_t>(bins), 0);
  for (double v : values) {
    if (std::isnan(v)) continue;
    int b = static_cast<int>(std::floor(std::clamp(v, 0.0, 1.0) * bins));
    ++count[static_cast<std::size_t>(std::min(b, bins - 1))];
  }
  const std::vector<int> ticks = integer_ticks(*std::max_element(count.begin(), count.end()));
  const int top = ticks.back();
  Frame f{width, height};
  std::vector<std::pair<double, std::string>> yl;
  for (int t : ticks) yl.emplace_back(static_cast<double>(t) / top, std::to_string(t));
  std::string s = fmt::format("<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
                              "viewBox=\"0 0 {} {}\" role=\"img\">\n",
                              html_escape(id), width, height, width, height);
  s += axes(f, x_title, "images", yl);
  for (int b = 0; b < bins; ++b) {
    const double x0 = f.px(static_cast<double>(b) / bins), x1 = f.px(static_cast<double>(b + 1) / bins);
    const double y = f.py(static_cast<double>(count[static_cast<std::size_t>(b)]) / top);
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                     "stroke=\"#ffffff\"><title>{:.2f}–{:.2f}: {}</title></rect>\n",
                     x0, y, x1 - x0, f.py(0) - y, color, static_cast<double>(b) / bins,
                     static_cast<double>(b + 1) / bins, count[static_cast<std::size_t>(b)]);
  }
  return s + "</svg>\n";
}

}  // namespace glamm::reports
