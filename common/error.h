// Errors as values with context: every failure the user can cause names the file, the record and the field.
#pragma once

#include <stdexcept>
#include <string>

namespace glamm {

/// An input error (bad file, bad record, bad option). The CLI prints what() and exits with status 2.
/// what() reads "<file>: <record>: <message>" with the empty parts left out.
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, const std::string& record, const std::string& message)
      : std::runtime_error(compose(file, record, message)), file_(file), record_(record), message_(message) {}
  explicit InputError(const std::string& message) : InputError("", "", message) {}

  const std::string& file() const { return file_; }
  const std::string& record() const { return record_; }
  const std::string& message() const { return message_; }

  /// The same error with a file name attached (when it had none).
  InputError with_file(const std::string& file) const {
    return file_.empty() ? InputError(file, record_, message_) : *this;
  }

 private:
  static std::string compose(const std::string& file, const std::string& record, const std::string& message) {
    std::string s;
    if (!file.empty()) s += file + ": ";
    if (!record.empty()) s += record + ": ";
    return s + message;
  }
  std::string file_, record_, message_;
};

}  // namespace glamm
