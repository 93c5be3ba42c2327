// parse_bench: how fast ParseMessage + Classify run over a set of real mails, in memory.
// Not a test: prints one line. scripts/bench.sh runs it beside py_parse_bench.py (Python's
// `email` package on the same files) and prints the ratio.
//
//   parse_bench [DIR] [ROUNDS]    DIR default ../shared/corpus (from the repository root),
//                                 ROUNDS default 5
//
// Every regular file under DIR is read once into memory; under the shared corpus only
// its mail folders (autoreply, bounce, list, normal, malformed) count, not LICENSES/ or
// expected/. Then every message is parsed and classified ROUNDS times. The output line:
//   parse_bench files=N bytes=B rounds=R seconds=S msgs_per_s=M MB_per_s=X peak_rss_kb=K
// peak_rss_kb is getrusage(RUSAGE_SELF).ru_maxrss, so it includes the files held in memory.
// Exits 77 (skipped) when DIR does not exist.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/classify.h"
#include "parsers/message.h"

namespace fs = std::filesystem;

namespace {

bool IsCorpusNoise(const fs::path& root, const fs::path& p) {
  // The shared corpus keeps licence texts and peers' expected results beside the mail.
  std::string rel = fs::relative(p, root).generic_string();
  return rel.rfind("LICENSES/", 0) == 0 || rel.rfind("expected/", 0) == 0 ||
         p.extension() == ".md";
}

std::vector<std::string> ReadAll(const fs::path& root) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && !IsCorpusNoise(root, e.path())) paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

mailreqd::ClassifyConfig BenchConfig() {
  mailreqd::ClassifyConfig c;
  c.services = {{"streaming", {"streaming service", "monthly streaming", "music streaming"}},
                {"library", {"music library"}},
                {"cloud backup", {"cloud backup 1tb"}}};
  c.own_addresses = {"support@shop.example"};
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = argc > 1 ? argv[1] : "../shared/corpus";
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (!fs::is_directory(dir)) {
    std::fprintf(stderr, "parse_bench: SKIPPED: no directory %s\n", dir.c_str());
    return 77;
  }
  auto files = ReadAll(dir);
  uint64_t bytes = 0;
  for (const auto& f : files) bytes += f.size();
  auto config = BenchConfig();

  size_t kinds = 0;  // keeps the optimiser from dropping the work
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const auto& raw : files) {
      auto msg = mailreqd::ParseMessage(raw);
      if (!msg.ok()) continue;
      kinds += static_cast<size_t>(mailreqd::Classify(*msg, config).kind);
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double n = static_cast<double>(files.size()) * rounds;
  std::printf("parse_bench files=%zu bytes=%llu rounds=%d seconds=%.3f msgs_per_s=%.0f "
              "MB_per_s=%.2f peak_rss_kb=%ld check=%zu\n",
              files.size(), static_cast<unsigned long long>(bytes), rounds, s, n / s,
              bytes * rounds / s / 1e6, ru.ru_maxrss, kinds);
  return 0;
}
