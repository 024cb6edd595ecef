// A small torch.save state dict (protocol-2 pickle of an OrderedDict of rebuilt tensors), shared by the torch zip
// reader's unit tests and the readers' fuzz test.
#pragma once

#include <string>

namespace glamm::testing {

/// Bytes from a hex string ("8002" -> "\x80\x02").
inline std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t k = 0; k + 1 < h.size(); k += 2) out += static_cast<char>(std::stoi(h.substr(k, 2), nullptr, 16));
  return out;
}

/// data.pkl of {'w': float32 [2,3] storage '0' (6 elements), 'wt': the same storage viewed [3,2] with strides (1,3),
/// 'b': float32 [2] at offset 2 of storage '1' (4 elements), 'h': float16 [2] of storage '2'}, as hex.
inline const char* const kStateDictPickleHex =
    "800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128580100000077710263746f7263682e5f7574696c73"
    "0a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f7263680a466c6f617453746f72"
    "6167650a71055801000000307106580300000063707571074b06747108514b004b024b038671094b034b0186710a8968002952710b74"
    "710c52710d58020000007774710e6803282868046805680668074b0674710f514b004b034b028671104b014b038671118968002952711274"
    "711352711458010000006271156803282868046805580100000031711668074b04747117514b024b028571184b018571198968002952"
    "711a74711b52711c580100000068711d68032828680463746f7263680a48616c6653746f726167650a711e580100000032711f68074b02"
    "747120514b006818681989680029527121747122527123752e";

}  // namespace glamm::testing
