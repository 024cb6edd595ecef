// Character properties as the PTB lexer (JFlex 1.5.1, %unicode, over UTF-16 code units) and Java see them.
#pragma once

#include <cstdint>
#include <vector>

namespace glamm::ptb::detail {

/// JFlex [:letter:] for a UTF-16 code unit: general category L* as of Unicode 6.3 (JFlex 1.5.1's tables);
/// surrogates are not letters.
bool jflex_letter(uint32_t c);
/// JFlex [:digit:] for a UTF-16 code unit: general category Nd as of Unicode 6.3.
bool jflex_digit(uint32_t c);
/// JFlex [:uppercase:] for a UTF-16 code unit: property Uppercase (Lu + Other_Uppercase) as of Unicode 6.3.
bool jflex_uppercase(uint32_t c);
/// Other characters a %caseless single-character literal `c` also matches (its simple upper/lower/title cases).
std::vector<uint32_t> caseless_variants(uint32_t c);

}  // namespace glamm::ptb::detail
