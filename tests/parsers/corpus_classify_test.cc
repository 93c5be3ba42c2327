// Runs ParseMessage + Classify over the shared corpus of real mail. Machines' mail
// (autoreply/, bounce/, list/; see ../shared/corpus/SOURCES.md) must never be answered;
// for every folder the counts per reason and per kind are printed for a human to read.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/classify.h"
#include "parsers/message.h"

namespace mailreqd {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(MAILREQD_SHARED_DIR) / "corpus";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<fs::path> Files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

ClassifyConfig CorpusConfig() {
  ClassifyConfig cfg;
  cfg.services = {{"StreamPlus", {"Stream Plus"}}, {"NewsDaily", {"News Daily"}}};
  cfg.own_addresses = {"privacy@mailreqd.example"};
  return cfg;
}

struct FolderResult {
  int files = 0;
  int answered = 0;
  int parse_errors = 0;
  std::map<std::string, int> reasons;
  std::map<std::string, int> kinds;
  std::vector<std::string> answered_names;
};

FolderResult ClassifyFolder(const fs::path& dir) {
  FolderResult r;
  const ClassifyConfig cfg = CorpusConfig();
  for (const fs::path& file : Files(dir)) {
    ++r.files;
    const Result<Message> msg = ParseMessage(ReadFile(file));
    if (!msg.ok()) {  // over the size limit: kept for a human, never answered
      ++r.parse_errors;
      continue;
    }
    const Request req = Classify(*msg, cfg);
    if (req.no_reply) {
      ++r.reasons[*req.no_reply];
    } else {
      ++r.answered;
      ++r.kinds[KindName(req.kind)];
      r.answered_names.push_back(file.filename().string());
    }
  }
  return r;
}

void Print(const std::string& folder, const FolderResult& r, double ms) {
  std::ostringstream out;
  out << "corpus/" << folder << ": " << r.files << " files, " << r.answered << " answerable, "
      << r.parse_errors << " parse errors, " << ms << " ms\n";
  for (const auto& [reason, n] : r.reasons) out << "  no_reply " << reason << ": " << n << "\n";
  for (const auto& [kind, n] : r.kinds) out << "  kind " << kind << ": " << n << "\n";
  std::cout << out.str();
}

TEST_CASE("Classify never answers the corpus' auto-replies, bounces and list mail",
          "[classify][corpus]") {
  const std::string folder =
      GENERATE(as<std::string>{}, "autoreply", "bounce", "list", "normal", "malformed");
  const fs::path dir = kCorpus / folder;
  if (!fs::is_directory(dir)) {
    WARN("SKIPPED: " << dir.string() << " is absent; the corpus lives in ../shared");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const FolderResult r = ClassifyFolder(dir);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  Print(folder, r, took.count());
  CHECK(r.files > 0);
  if (folder == "autoreply" || folder == "bounce" || folder == "list") {
    for (const std::string& name : r.answered_names) {
      INFO(folder << "/" << name << " would be answered");
      CHECK(false);
    }
    CHECK(r.answered == 0);
  }
}

}  // namespace
}  // namespace mailreqd
