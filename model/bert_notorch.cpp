// BertModel for builds without libtorch (GLAMM_WITH_TORCH=OFF): every entry point throws a clear error.
// Compiled instead of model/bert.cpp; see bert.h for the real contract.
#include <stdexcept>

#include "common/error.h"
#include "model/bert.h"
#include "model/text_similarity.h"

namespace glamm::model {
namespace {
[[noreturn]] void unavailable() {
  throw InputError("", "", "BERT needs libtorch: this build has GLAMM_WITH_TORCH=OFF; install libtorch-dev "
                           "(scripts/setup.sh) and rebuild");
}
}  // namespace

bool torch_available() { return false; }

struct BertModel::Impl {
  BertConfig config;
};

BertModel::BertModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BertModel::~BertModel() = default;
BertModel::BertModel(BertModel&&) noexcept = default;
BertModel& BertModel::operator=(BertModel&&) noexcept = default;
const BertConfig& BertModel::config() const { return impl_->config; }
BertModel BertModel::load(const BertConfig&, const std::filesystem::path&) { unavailable(); }
BertModel BertModel::random(const BertConfig&, uint64_t) { unavailable(); }
std::vector<float> BertModel::last_hidden_state(const std::vector<int64_t>&) const { unavailable(); }
std::vector<std::vector<float>> BertModel::mean_pooled(const std::vector<std::vector<int64_t>>&) const { unavailable(); }

}  // namespace glamm::model
