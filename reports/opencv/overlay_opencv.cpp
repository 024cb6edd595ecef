// The OpenCV half of the HTML report's mask overlays, built as a plugin (libglamm_overlay.so) that
// reports/overlay.cpp loads on first use: the drawing described at reports::overlay_jpeg.
#include <algorithm>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "metrics/mask/rle.h"

namespace {

namespace mask = glamm::mask;
using mask::Rle;

// Row-major 0/1 mask of the image size from a column-major RLE decode.
cv::Mat mask_mat(const mask::Rle& r, const cv::Size& image) {
  std::vector<uint8_t> col = mask::decode(r);
  cv::Mat colmajor(static_cast<int>(r.w), static_cast<int>(r.h), CV_8U, col.data());
  cv::Mat m = colmajor.t();
  if (m.size() != image) cv::resize(m, m, image, 0, 0, cv::INTER_NEAREST);
  return m.clone();
}

std::string draw(const std::string& image_path, const Rle* gt, std::size_t n_gt, const Rle* pred, std::size_t n_pred,
                 int max_side) {
  cv::Mat img = cv::imread(image_path, cv::IMREAD_COLOR);
  if (img.empty())
    throw std::runtime_error("cannot read the image (not an image file, corrupt, or above the pixel limit that "
                             "report --max-image-pixels sets)");
  const cv::Size size = img.size();
  cv::Mat red(size, CV_8UC3, cv::Scalar(40, 40, 230));
  for (std::size_t k = 0; k < n_pred; ++k) {
    const Rle& r = pred[k];
    if (r.h == 0 || r.w == 0) continue;
    cv::Mat m = mask_mat(r, size);
    cv::Mat blended;
    cv::addWeighted(img, 0.55, red, 0.45, 0.0, blended);
    blended.copyTo(img, m);
  }
  for (std::size_t k = 0; k < n_gt; ++k) {
    const Rle& r = gt[k];
    if (r.h == 0 || r.w == 0) continue;
    cv::Mat m = mask_mat(r, size);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(m, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    cv::drawContours(img, contours, -1, cv::Scalar(60, 220, 60), 2);
  }
  const int longer = std::max(img.cols, img.rows);
  if (longer > max_side && max_side > 0) {
    const double s = static_cast<double>(max_side) / longer;
    cv::resize(img, img, cv::Size(), s, s, cv::INTER_AREA);
  }
  std::vector<uchar> buf;
  cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, 85});
  return std::string(buf.begin(), buf.end());
}

}  // namespace

/// Plugin entry: JPEG bytes of the overlay in *out and 0, or a message in *error and 1 (never throws).
extern "C" int glamm_overlay_jpeg(const char* image_path, const Rle* gt, std::size_t n_gt, const Rle* pred,
                                  std::size_t n_pred, int max_side, std::string* out, std::string* error) {
  try {
    // OpenCV's own warnings would repeat, unformatted, what the error message says.
    static const bool quiet = [] {
      cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
      return true;
    }();
    (void)quiet;
    *out = draw(image_path, gt, n_gt, pred, n_pred, max_side);
    return 0;
  } catch (const std::exception& e) {
    *error = e.what();
    return 1;
  }
}
