#include "metrics/meteor/discovery.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "common/error.h"
#include "common/io.h"

extern char** environ;

namespace glamm::meteor {
namespace fs = std::filesystem;
namespace {

struct Sha1 {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Sha1() { EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr); }
  ~Sha1() { EVP_MD_CTX_free(ctx); }
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;
  void update(const void* p, std::size_t n) { EVP_DigestUpdate(ctx, p, n); }
  std::string hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    return io::to_hex(md, len);
  }
};

void blob_header(Sha1& h, std::uintmax_t size) {
  const std::string head = "blob " + std::to_string(size);
  h.update(head.data(), head.size());
  h.update("", 1);  // the NUL byte
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool is_off(const std::string& v) { return v == "-" || v == "off"; }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// lib/python3*/{site,dist}-packages under `prefix`, sorted, existing only.
std::vector<fs::path> site_dirs_under(const fs::path& lib) {
  std::vector<fs::path> pys, out;
  std::error_code ec;
  if (!is_dir(lib)) return out;
  for (fs::directory_iterator it(lib, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("python3", 0) == 0 && is_dir(it->path())) pys.push_back(it->path());
  }
  std::sort(pys.begin(), pys.end());
  for (const auto& py : pys)
    for (const char* pk : {"site-packages", "dist-packages"})
      if (is_dir(py / pk)) out.push_back(py / pk);
  return out;
}

// The first executable `python3` on PATH ("" when none).
fs::path python_on_path() {
  const std::string path = env("PATH");
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    fs::path dir = path.substr(i, j - i);
    if (dir.empty()) dir = ".";
    fs::path exe = dir / "python3";
    if (is_file(exe) && ::access(exe.c_str(), X_OK) == 0) return exe;
    i = j + 1;
  }
  return {};
}

// Run `python3 -c` with stdin/stderr on /dev/null and return its stdout, or "" when it fails or runs longer than
// `timeout_ms` (then it is killed).
std::string run_python_paths(const fs::path& exe, int timeout_ms) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  const std::string exe_s = exe.string();
  const char* script =
      "import site, sys, sysconfig\n"
      "print(sysconfig.get_paths().get('purelib', ''))\n"
      "for p in getattr(site, 'getsitepackages', lambda: [])(): print(p)\n";
  std::vector<char*> argv = {const_cast<char*>(exe_s.c_str()), const_cast<char*>("-I"), const_cast<char*>("-c"),
                             const_cast<char*>(script), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe_s.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return "";
  }
  std::string out;
  bool ok = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ok = false;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    char buf[4096];
    const ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // EOF
    out.append(buf, static_cast<std::size_t>(got));
    if (out.size() > (1 << 16)) {
      ok = false;
      break;
    }
  }
  ::close(fds[0]);
  if (!ok) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  return out;
}

}  // namespace

std::string git_blob_id(const std::string& bytes) {
  Sha1 h;
  blob_header(h, bytes.size());
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

std::string git_blob_id_file(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) throw InputError(path, "", "cannot open file to identify it");
  Sha1 h;
  blob_header(h, size);
  std::vector<char> buf(1 << 20);
  std::uintmax_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) {
      h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
      total += static_cast<std::uintmax_t>(in.gcount());
    }
  }
  if (in.bad() || total != size) throw InputError(path, "", "read error while identifying the file");
  return h.hex_digest();
}

namespace {
bool blob_is(const std::string& path, const char* id) {
  if (!is_file(path)) return false;
  try {
    return git_blob_id_file(path) == id;
  } catch (const InputError&) {
    return false;
  }
}
}  // namespace

bool is_official_jar(const std::string& path) { return blob_is(path, kOfficialJarBlobId); }
bool is_official_paraphrase(const std::string& path) { return blob_is(path, kOfficialParaphraseBlobId); }

std::vector<std::pair<std::string, std::string>> python_site_dirs(const DiscoveryOptions& opt) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  auto add = [&](const fs::path& dir, const std::string& how) {
    if (!is_dir(dir)) return;
    std::error_code ec;
    fs::path key = fs::weakly_canonical(dir, ec);
    if (ec) key = dir;
    if (seen.insert(key.string()).second) out.emplace_back(dir.string(), how);
  };
  // The python3 on PATH: <prefix>/bin/python3 → <prefix>/lib/python3*/. Try the path as found (a venv's
  // bin/python3 is a symlink to the base interpreter), then the resolved one.
  if (const fs::path exe = python_on_path(); !exe.empty()) {
    std::vector<fs::path> dirs;
    std::error_code ec;
    for (const fs::path& e : {exe, fs::canonical(exe, ec)}) {
      if (e.empty()) continue;
      for (const auto& d : site_dirs_under(e.parent_path().parent_path() / "lib")) dirs.push_back(d);
    }
    // A pyenv shim (<root>/shims/python3): every installed version's site-packages, without running the shim.
    const fs::path root = exe.parent_path().parent_path();
    const bool pyenv = exe.parent_path().filename() == "shims" && is_dir(root / "versions");
    if (dirs.empty() && pyenv) {
      std::vector<fs::path> versions;
      for (fs::directory_iterator it(root / "versions", ec), end; !ec && it != end; it.increment(ec))
        if (is_dir(it->path())) versions.push_back(it->path());
      std::sort(versions.begin(), versions.end());
      for (const auto& v : versions)
        for (const auto& d : site_dirs_under(v / "lib")) dirs.push_back(d);
    }
    if (dirs.empty() && !pyenv && opt.run_python) {
      // A wrapper (pyenv shim, a script): ask the interpreter itself, briefly.
      const std::string text = run_python_paths(exe, opt.python_timeout_ms);
      std::size_t i = 0;
      while (i < text.size()) {
        std::size_t j = text.find('\n', i);
        if (j == std::string::npos) j = text.size();
        std::string line = text.substr(i, j - i);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty() && line[0] == '/') dirs.emplace_back(line);
        i = j + 1;
      }
    }
    for (const auto& d : dirs) add(d, "python3 on PATH (" + exe.string() + ")");
  }
  for (const char* var : {"CONDA_PREFIX", "VIRTUAL_ENV"})
    if (const std::string p = env(var); !p.empty())
      for (const auto& d : site_dirs_under(fs::path(p) / "lib")) add(d, var);
  if (const std::string home = env("HOME"); !home.empty())
    for (const auto& d : site_dirs_under(fs::path(home) / ".local" / "lib")) add(d, "~/.local");
  for (const char* root : {"/usr/lib", "/usr/local/lib"})
    for (const auto& d : site_dirs_under(root)) add(d, root);
  return out;
}

Discovery discover(const DiscoveryOptions& opt) {
  Discovery d;
  bool sites_done = false;
  std::vector<std::pair<std::string, std::string>> sites;
  auto site_list = [&]() -> const std::vector<std::pair<std::string, std::string>>& {
    if (!sites_done) sites = python_site_dirs(opt), sites_done = true;
    return sites;
  };
  // Record a candidate; take it when it exists (or `force`: a path the user named) and nothing is chosen yet.
  auto consider = [&](const char* what, DiscoveredFile& slot, const fs::path& p, const std::string& how,
                      bool force) {
    for (const auto& seen : d.checked)
      if (seen.what == what && seen.path == p.string()) return;  // the same file reached twice
    DiscoveryCandidate c;
    c.what = what;
    c.how = how;
    c.path = p.string();
    c.exists = is_file(p) || (force && is_dir(p));
    if (c.exists && opt.identify && is_file(p)) {
      c.identified = true;
      const std::string id = git_blob_id_file(c.path);
      c.official = id == (std::string(what) == "jar" ? kOfficialJarBlobId : kOfficialParaphraseBlobId);
      if (!slot.found()) slot.blob_id = id;
    }
    d.checked.push_back(c);
    if (slot.found() || !(c.exists || force)) return;
    slot.path = c.path;
    slot.how = how;
    slot.identified = c.identified;
    slot.official = c.official;
  };

  // The resource location (jar or folder). A METEOR 1.5 distribution folder (meteor-1.5.jar, no english.synsets
  // beside it) stands for its jar.
  auto given = [&](const std::string& value, const std::string& how) {
    const fs::path jar = fs::path(value) / "meteor-1.5.jar";
    if (is_dir(value) && !is_file(fs::path(value) / "english.synsets") && is_file(jar))
      consider("jar", d.jar, jar, how + " (METEOR folder)", true);
    else
      consider("jar", d.jar, value, how, true);
  };
  if (!opt.resources_cli.empty()) {
    given(opt.resources_cli, "--meteor-resources");
  } else if (const std::string e = env("GLAMM_METEOR_RESOURCES"); !e.empty()) {
    given(e, "GLAMM_METEOR_RESOURCES");
  } else {
    for (const auto& [dir, how] : site_list()) {
      if (d.jar.found() && !opt.identify) break;  // the full list only when identifying (`resources` listing)
      consider("jar", d.jar, fs::path(dir) / "pycocoevalcap" / "meteor" / "meteor-1.5.jar", how, false);
    }
  }

  // The paraphrase table.
  if (!opt.paraphrase_cli.empty()) {
    if (is_off(opt.paraphrase_cli)) {
      d.paraphrase_off = true;
      return d;
    }
    consider("paraphrase", d.paraphrase, opt.paraphrase_cli, "--meteor-paraphrase", true);
    return d;
  }
  if (const std::string e = env("GLAMM_METEOR_PARAPHRASE"); !e.empty()) {
    if (is_off(e)) {
      d.paraphrase_off = true;
      return d;
    }
    consider("paraphrase", d.paraphrase, e, "GLAMM_METEOR_PARAPHRASE", true);
    return d;
  }
  if (d.jar.found()) {
    const fs::path loc(d.jar.path);
    const fs::path base = is_dir(loc) ? loc : loc.parent_path();
    // A jar found in a Python environment: its table is that environment's.
    const bool from_user = d.jar.how.rfind("--meteor-resources", 0) == 0 || d.jar.how.rfind("GLAMM_METEOR_RESOURCES", 0) == 0;
    const std::string how = from_user ? "next to the METEOR resources" : d.jar.how;
    if (is_dir(loc)) consider("paraphrase", d.paraphrase, base / "paraphrase-en.gz", how, false);
    consider("paraphrase", d.paraphrase, base / "data" / "paraphrase-en.gz", how, false);
  }
  for (const auto& [dir, how] : site_list()) {
    if (d.paraphrase.found() && !opt.identify) break;
    consider("paraphrase", d.paraphrase, fs::path(dir) / "pycocoevalcap" / "meteor" / "data" / "paraphrase-en.gz", how,
             false);
  }
  return d;
}

std::string paraphrase_signature(bool loaded, bool official, const std::string& sha256_hex) {
  if (!loaded) return "off";
  if (official) return "official";
  return "other:" + sha256_hex.substr(0, 12);
}

}  // namespace glamm::meteor
