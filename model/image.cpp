// cv::imread (IMREAD_COLOR) + BGR → RGB, with file-named errors.
#include "model/image.h"

#include <cstring>
#include <string>
#include <system_error>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/error.h"

namespace glamm::model {

ImageU8 load_image_rgb(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(file, "", "image file not found");
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(file, "", "image path is not a regular file");
  cv::Mat bgr;
  try {
    bgr = cv::imread(file, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw InputError(file, "", std::string("cannot decode image: ") + e.what());
  }
  if (bgr.empty()) throw InputError(file, "", "cannot decode image (unknown format, truncated or corrupt data)");
  if (bgr.type() != CV_8UC3)  // IMREAD_COLOR always yields 8-bit BGR; guard against a surprising build
    throw InputError(file, "", "decoder returned OpenCV type " + std::to_string(bgr.type()) + ", not 8-bit BGR");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  ImageU8 out;
  out.height = rgb.rows;
  out.width = rgb.cols;
  out.rgb.resize(static_cast<std::size_t>(out.height) * out.width * 3);
  const std::size_t row_bytes = static_cast<std::size_t>(out.width) * 3;
  for (int y = 0; y < out.height; ++y) std::memcpy(out.rgb.data() + y * row_bytes, rgb.ptr<uint8_t>(y), row_bytes);
  return out;
}

}  // namespace glamm::model
