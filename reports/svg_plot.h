// Small inline-SVG plots for the HTML report (no scripts, no external resources).
#pragma once

#include <string>
#include <vector>

namespace glamm::reports {

/// One polyline of a line plot: points (x, y) in data units, a CSS colour and a legend label; `dash` (an SVG
/// stroke-dasharray such as "8 5", "" = solid) and `marker` ("circle", "square", "" = none; drawn at every tenth
/// point, the second series' offset by five points) tell coinciding curves apart, and the legend (a box in the lower
/// left) shows both.
struct SvgSeries {
  std::vector<std::pair<double, double>> points;
  std::string color, label;
  std::string dash, marker;
};

/// Integer y-axis ticks for counts up to `max_count`: 0, step, 2·step, … up to the first multiple of step ≥
/// max_count, with step the smallest of 1, 2, 5, 10, 20, 50, … that gives at most 5 intervals. No fractional or
/// repeated ticks (max_count 3 → 0 1 2 3; 12 → 0 5 10 15).
std::vector<int> integer_ticks(int max_count);

/// A line plot over x, y ∈ [0, 1] with axes, ticks at 0.0:0.2:1.0, axis titles and a legend; `id` becomes the
/// <svg> element id. width/height in CSS pixels.
std::string svg_line_plot(const std::string& id, const std::vector<SvgSeries>& series, const std::string& x_title,
                          const std::string& y_title, int width = 420, int height = 320);

/// A histogram of `values` ∈ [0, 1] in `bins` equal bins (1.0 falls in the last bin; values outside are clamped),
/// bars filled with `color`, counts on the y axis with integer_ticks.
std::string svg_histogram(const std::string& id, const std::vector<double>& values, int bins, const std::string& color,
                          const std::string& x_title, int width = 420, int height = 320);

/// HTML-escape text (& < > " ').
std::string html_escape(const std::string& s);

}  // namespace glamm::reports
