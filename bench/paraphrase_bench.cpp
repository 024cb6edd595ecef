// METEOR paraphrase-table loading benchmark.
//
//   paraphrase_bench gen OUT.gz [ENTRIES] [SEED]   write a synthetic table in METEOR's format (gzip of 3-line
//                                                   records: probability, phrase, paraphrase), default 4,000,000
//                                                   entries; phrases of 1-4 words from a Zipf-like vocabulary of
//                                                   200,000 words, each phrase with 1-8 paraphrases in a row
//                                                   (the real table is grouped by phrase too)
//   paraphrase_bench load TABLE.gz [RUNS]          time the load: read + SHA-256 + blob id, parse (no cache),
//                                                   parse + cache write, cached load (RUNS times, default 5),
//                                                   and check that the cached table equals the parsed one
//
// The cache goes to a fresh folder under $TMPDIR (removed afterwards), not to ~/.cache. Run it pinned to two
// cores (taskset -c 0,1) and read the load average it prints: see bench/README.md.
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "common/io.h"
#include "metrics/meteor/discovery.h"
#include "metrics/meteor/paraphrase.h"

namespace {

namespace fs = std::filesystem;
using glamm::meteor::ParaphraseTable;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

int gen(const std::string& out, long entries, unsigned seed) {
  std::mt19937_64 rng(seed);
  const int vocab_size = 200000;
  std::vector<std::string> vocab;
  vocab.reserve(vocab_size);
  const char* letters = "etaoinshrdlcumwfgypbvkjxqz";
  for (int i = 0; i < vocab_size; ++i) {
    std::string w;
    const int len = 2 + static_cast<int>(rng() % 8);
    for (int k = 0; k < len; ++k) w += letters[std::min<unsigned long>(rng() % 26, rng() % 26)];
    vocab.push_back(w + (i % 7 == 0 ? "s" : ""));
  }
  // Zipf-like: index = floor(V * u^3).
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  auto word = [&]() -> const std::string& {
    const double u = u01(rng);
    return vocab[static_cast<std::size_t>(vocab_size * u * u * u) % vocab_size];
  };
  auto phrase = [&] {
    std::string p;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) p += (k ? " " : "") + word();
    return p;
  };
  gzFile f = gzopen(out.c_str(), "wb6");
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    return 2;
  }
  std::string buf;
  char prob[32];
  long written = 0;
  while (written < entries) {
    const std::string ref = phrase();
    const int k = 1 + static_cast<int>(rng() % 8);
    for (int j = 0; j < k && written < entries; ++j, ++written) {
      std::snprintf(prob, sizeof prob, "%.17g\n", u01(rng) * 0.5);
      buf += prob;
      buf += ref;
      buf += '\n';
      buf += phrase();
      buf += '\n';
    }
    if (buf.size() > (1 << 20)) {
      gzwrite(f, buf.data(), static_cast<unsigned>(buf.size()));
      buf.clear();
    }
  }
  if (!buf.empty()) gzwrite(f, buf.data(), static_cast<unsigned>(buf.size()));
  gzclose(f);
  std::printf("wrote %s: %ld entries, %.1f MiB gzip\n", out.c_str(), entries,
              static_cast<double>(fs::file_size(out)) / (1 << 20));
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int load(const std::string& path, int runs) {
  double la[3] = {0, 0, 0};
  if (getloadavg(la, 3) < 0) la[0] = la[1] = la[2] = -1;
  std::printf("table %s (%.1f MiB gzip); load average %.2f %.2f %.2f; %ld online CPUs\n", path.c_str(),
              static_cast<double>(fs::file_size(path)) / (1 << 20), la[0], la[1], la[2], sysconf(_SC_NPROCESSORS_ONLN));
  const fs::path cache = fs::temp_directory_path() / ("glamm_paraphrase_bench_" + std::to_string(::getpid()));
  fs::remove_all(cache);

  // What Resources::load does before the table: read it, SHA-256 (cache key, signature) and the git blob id
  // (official or not) on a second thread.
  double w0 = now(), c0 = cpu();
  const std::string gz = glamm::io::read_file(path);
  auto blob = std::async(std::launch::async, [&] { return glamm::meteor::git_blob_id(gz); });
  const std::string sha = glamm::io::sha256_hex(gz);
  const std::string id = blob.get();
  const double hash_wall = now() - w0, hash_cpu = cpu() - c0;
  std::printf("read + sha256 + blob id:  wall %.3f s  cpu %.3f s  (official: %s)\n", hash_wall, hash_cpu,
              id == glamm::meteor::kOfficialParaphraseBlobId ? "yes" : "no");

  w0 = now(), c0 = cpu();
  const ParaphraseTable parsed = ParaphraseTable::load_gz_bytes(gz, path);
  std::printf("parse (no cache):         wall %.3f s  cpu %.3f s  (%zu entries, %zu words)\n", now() - w0, cpu() - c0,
              parsed.size(), parsed.vocabulary_size());

  ParaphraseTable::CacheUse used;
  w0 = now(), c0 = cpu();
  { ParaphraseTable t = ParaphraseTable::load_gz_cached(gz, sha, path, cache.string(), &used); }
  const fs::path file = cache / ("paraphrase-" + sha + ".bin");
  std::printf("first load (parse+write): wall %.3f s  cpu %.3f s  (cache %.1f MiB, %s)\n", now() - w0, cpu() - c0,
              fs::exists(file) ? static_cast<double>(fs::file_size(file)) / (1 << 20) : 0.0,
              used == ParaphraseTable::CacheUse::kParsedAndCached ? "written" : "NOT written");

  std::vector<double> walls, cpus;
  bool same = true;
  for (int r = 0; r < runs; ++r) {
    w0 = now(), c0 = cpu();
    ParaphraseTable t = ParaphraseTable::load_gz_cached(gz, sha, path, cache.string(), &used);
    walls.push_back(now() - w0);
    cpus.push_back(cpu() - c0);
    same = same && used == ParaphraseTable::CacheUse::kFromCache;
    if (r == 0) same = same && t == parsed;
  }
  std::printf("cached load (median of %d): wall %.3f s  cpu %.3f s  (+ read/hash above: wall %.3f s)\n", runs,
              median(walls), median(cpus), median(walls) + hash_wall);
  std::printf("cached table identical to the parsed one: %s; peak RSS %ld MiB\n", same ? "yes" : "NO", peak_rss_mib());
  fs::remove_all(cache);
  return same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "gen" && argc >= 3)
      return gen(argv[2], argc > 3 ? std::atol(argv[3]) : 4000000L, argc > 4 ? static_cast<unsigned>(std::atol(argv[4])) : 1u);
    if (mode == "load" && argc >= 3) return load(argv[2], argc > 3 ? std::atoi(argv[3]) : 5);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "usage: paraphrase_bench gen OUT.gz [ENTRIES] [SEED]\n       paraphrase_bench load TABLE.gz [RUNS]\n");
  return 2;
}
