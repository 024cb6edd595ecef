#include "common/locate.h"

#include <link.h>

#include <cstdint>
#include <cstdlib>

namespace glamm::locate {
namespace fs = std::filesystem;
namespace {

struct Search {
  std::uintptr_t address = 0;
  bool found = false;
  bool main_program = false;
  std::string name;
};

int visit(struct dl_phdr_info* info, std::size_t, void* data) {
  auto* s = static_cast<Search*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (s->address >= lo && s->address < lo + ph.p_memsz) {
      s->found = true;
      s->name = info->dlpi_name ? info->dlpi_name : "";
      s->main_program = s->name.empty();
      return 1;
    }
  }
  return 0;
}

}  // namespace

fs::path module_dir(const void* address) {
  Search s;
  s.address = reinterpret_cast<std::uintptr_t>(address);
  dl_iterate_phdr(visit, &s);
  std::error_code ec;
  fs::path file;
  if (!s.found || s.main_program) {
    file = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
  } else {
    file = s.name;
  }
  fs::path canon = fs::weakly_canonical(file, ec);
  if (!ec) file = canon;
  return file.parent_path();
}

fs::path self_dir() {
  static const fs::path dir = module_dir(reinterpret_cast<const void*>(&self_dir));
  return dir;
}

namespace {
std::vector<fs::path>& extra_plugin_dirs() {
  static std::vector<fs::path> dirs;
  return dirs;
}
}  // namespace

void add_plugin_dir(const fs::path& dir) { extra_plugin_dirs().push_back(dir); }

std::vector<fs::path> plugin_dirs() {
  std::vector<fs::path> out = extra_plugin_dirs();
  const fs::path d = self_dir();
  if (d.empty()) return out;
  out.push_back(d);
  out.push_back(d.parent_path() / "lib" / "glamm-eval");
  return out;
}

fs::path find_plugin(const std::string& file_name, const char* env_var) {
  if (env_var) {
    if (const char* env = std::getenv(env_var); env && *env) return env;
  }
  std::error_code ec;
  for (const auto& d : plugin_dirs())
    if (fs::is_regular_file(d / file_name, ec)) return d / file_name;
  return {};
}

std::vector<fs::path> data_dirs() {
  std::vector<fs::path> out;
  const fs::path d = self_dir();
  if (d.empty()) return out;
  std::error_code ec;
  for (const fs::path& c : {d / "share" / "glamm-eval", d.parent_path() / "share" / "glamm-eval"})
    if (fs::is_directory(c, ec)) out.push_back(c);
  return out;
}

fs::path find_data(const fs::path& relative) {
  std::error_code ec;
  for (const auto& d : data_dirs())
    if (fs::exists(d / relative, ec)) return d / relative;
  return {};
}

}  // namespace glamm::locate
