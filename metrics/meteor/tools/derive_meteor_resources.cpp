// Build-time generator: writes METEOR's english.synsets and english.exceptions, derived from a WordNet 3.0 database
// (Debian wordnet-base), into a folder. CMake runs it so that they land in <build>/share/glamm-eval/meteor.
//
//   derive_meteor_resources WORDNET_DIR OUT_DIR
#include <exception>
#include <filesystem>
#include <iostream>

#include "common/error.h"
#include "common/io.h"
#include "metrics/meteor/wordnet_derive.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: derive_meteor_resources WORDNET_DIR OUT_DIR\n"
                 "  WORDNET_DIR: data.{noun,verb,adj,adv} and {adj,adv,noun,verb}.exc (e.g. /usr/share/wordnet)\n";
    return 2;
  }
  namespace fs = std::filesystem;
  namespace wn = glamm::meteor::wordnet;
  try {
    const wn::Files files = wn::Files::read(argv[1]);
    const fs::path out(argv[2]);
    glamm::io::write_file_atomic(out / "english.synsets", wn::derive_synsets(files));
    glamm::io::write_file_atomic(out / "english.exceptions", wn::derive_exceptions(files));
  } catch (const glamm::InputError& e) {
    std::cerr << "derive_meteor_resources: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "derive_meteor_resources: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
