// gzip-compressing bytes in tests (inputs for the readers' transparent gunzip and the paraphrase-table loader).
#pragma once

#include <zlib.h>

#include <string>

#include <gtest/gtest.h>

namespace glamm::testing {

/// `data` as one gzip member at compression `level` (zlib's deflate with a gzip header).
inline std::string gzip(const std::string& data, int level = 6) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace glamm::testing
