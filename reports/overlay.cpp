#include "reports/overlay.h"

#include <algorithm>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace glamm::reports {

using nlohmann::json;

std::vector<mask::Rle> rles_from_json(const json& list, const std::string& file, const std::string& where) {
  std::vector<mask::Rle> out;
  if (!list.is_array()) throw InputError(file, where, "is not a list of RLE masks");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string w = where + "[" + std::to_string(i) + "]";
    const json& m = list[i];
    try {
      const auto size = m.at("size").get<std::vector<uint32_t>>();
      if (size.size() != 2) throw InputError(file, w, "size must be [height, width]");
      const json& c = m.at("counts");
      if (c.is_string()) {
        out.push_back(mask::from_string(c.get<std::string>(), size[0], size[1]));
      } else {
        mask::Rle r;
        r.h = size[0];
        r.w = size[1];
        r.counts = c.get<std::vector<uint32_t>>();
        out.push_back(std::move(r));
      }
    } catch (const json::exception& e) {
      throw InputError(file, w, std::string("not a COCO RLE: ") + e.what());
    } catch (const mask::RleError& e) {
      throw InputError(file, w, e.what());
    }
  }
  return out;
}

namespace {

// Row-major 0/1 mask of the image size from a column-major RLE decode.
cv::Mat mask_mat(const mask::Rle& r, const cv::Size& image) {
  std::vector<uint8_t> col = mask::decode(r);
  cv::Mat colmajor(static_cast<int>(r.w), static_cast<int>(r.h), CV_8U, col.data());
  cv::Mat m = colmajor.t();
  if (m.size() != image) cv::resize(m, m, image, 0, 0, cv::INTER_NEAREST);
  return m.clone();
}

}  // namespace

std::string overlay_jpeg(const std::string& image_path, const std::vector<mask::Rle>& gt,
                         const std::vector<mask::Rle>& pred, int max_side) {
  cv::Mat img = cv::imread(image_path, cv::IMREAD_COLOR);
  if (img.empty()) throw InputError(image_path, "", "cannot read the image (missing or not an image file)");
  const cv::Size size = img.size();
  cv::Mat red(size, CV_8UC3, cv::Scalar(40, 40, 230));
  for (const auto& r : pred) {
    if (r.h == 0 || r.w == 0) continue;
    cv::Mat m = mask_mat(r, size);
    cv::Mat blended;
    cv::addWeighted(img, 0.55, red, 0.45, 0.0, blended);
    blended.copyTo(img, m);
  }
  for (const auto& r : gt) {
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

std::string base64(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace glamm::reports
