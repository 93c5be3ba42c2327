// Parses every mail of the shared corpus (../shared/corpus, read at run time) and checks
// the results against the peers' expectations in corpus/expected/ where they exist.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/charset.h"
#include "parsers/message.h"

namespace mailreqd {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(MAILREQD_SHARED_DIR) / "corpus";
const char* const kFolders[] = {"autoreply", "bounce", "list", "normal", "malformed"};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Just enough JSON (RFC 8259) to read the expectation files: objects, arrays, strings
// (with \u escapes and surrogate pairs), and scalars kept as raw text.
struct Json {
  enum Kind { kNull, kScalar, kString, kArray, kObject } kind = kNull;
  std::string text;  // string value or scalar literal
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* Get(std::string_view key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  const Json* At(size_t i) const { return i < items.size() ? &items[i] : nullptr; }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}
  Json Value() {
    Space();
    Json j;
    if (i_ >= s_.size()) return j;
    char c = s_[i_];
    if (c == '{') return Object();
    if (c == '[') return Array();
    if (c == '"') {
      j.kind = Json::kString;
      j.text = String();
      return j;
    }
    size_t start = i_;
    while (i_ < s_.size() && std::string_view(",]} \n\r\t").find(s_[i_]) == s_.npos) ++i_;
    j.text = std::string(s_.substr(start, i_ - start));
    j.kind = j.text == "null" ? Json::kNull : Json::kScalar;
    return j;
  }

 private:
  void Space() {
    while (i_ < s_.size() && std::string_view(" \n\r\t").find(s_[i_]) != s_.npos) ++i_;
  }
  Json Object() {
    Json j;
    j.kind = Json::kObject;
    for (++i_, Space(); i_ < s_.size() && s_[i_] != '}'; Space()) {
      std::string key = (Space(), String());
      Space();
      ++i_;  // ':'
      j.members.emplace_back(std::move(key), Value());
      Space();
      if (i_ < s_.size() && s_[i_] == ',') ++i_;
      Space();
    }
    ++i_;
    return j;
  }
  Json Array() {
    Json j;
    j.kind = Json::kArray;
    for (++i_, Space(); i_ < s_.size() && s_[i_] != ']'; Space()) {
      j.items.push_back(Value());
      Space();
      if (i_ < s_.size() && s_[i_] == ',') ++i_;
    }
    ++i_;
    return j;
  }
  unsigned Hex4() {
    unsigned v = std::stoul(std::string(s_.substr(i_ + 1, 4)), nullptr, 16);
    i_ += 4;
    return v;
  }
  std::string String() {
    std::string out;
    for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
      if (s_[i_] != '\\') {
        out.push_back(s_[i_]);
        continue;
      }
      char e = s_[++i_];
      if (e == 'u') {
        unsigned cp = Hex4();
        if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_ + 1, 2) == "\\u") {
          i_ += 2;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (Hex4() - 0xDC00);
        }
        AppendUtf8(cp, &out);
      } else {
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b'
                      : e == 'f' ? '\f' : e);
      }
    }
    ++i_;
    return out;
  }
  static void AppendUtf8(unsigned cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Every corpus mail by file name (names are unique across the folders).
std::map<std::string, fs::path> CorpusFiles() {
  std::map<std::string, fs::path> files;
  for (const char* folder : kFolders) {
    if (!fs::is_directory(kCorpus / folder)) continue;
    for (const auto& e : fs::directory_iterator(kCorpus / folder)) {
      if (e.is_regular_file()) files[e.path().filename().string()] = e.path();
    }
  }
  return files;
}

Message ParseFile(const fs::path& p) {
  Result<Message> r = ParseMessage(ReadFile(p));
  INFO(p.string());
  REQUIRE(r.ok());
  return std::move(r.value());
}

TEST_CASE("ParseMessage parses every corpus mail", "[corpus]") {
  if (!fs::is_directory(kCorpus)) {
    WARN("SKIPPED: no corpus at " << kCorpus.string());
    return;
  }
  for (const char* folder : kFolders) {
    fs::path dir = kCorpus / folder;
    if (!fs::is_directory(dir)) {
      WARN("SKIPPED folder: " << dir.string() << " is absent");
      continue;
    }
    int count = 0, with_from = 0, with_text = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      INFO(e.path().string());
      Message m = ParseFile(e.path());
      ++count;
      CHECK(IsValidUtf8(m.subject));
      CHECK(IsValidUtf8(m.body_text));
      CHECK(IsValidUtf8(m.from.name));
      if (m.HasHeader("from") && std::string(folder) != "malformed") {
        bool null_sender = m.Header("from").find("<>") != std::string::npos;
        CHECK((!m.from.addr.empty() || null_sender));
      }
      with_from += !m.from.addr.empty();
      with_text += !m.body_text.empty();
    }
    WARN(folder << ": parsed " << count << " mails, " << with_from << " with a From address, "
                << with_text << " with body text");
  }
}

// expected/phpmmp.json: php-mime-mail-parser's subject and From results (see its README).
TEST_CASE("ParseMessage agrees with php-mime-mail-parser's expectations", "[corpus]") {
  fs::path expected = kCorpus / "expected" / "phpmmp.json";
  if (!fs::exists(expected)) {
    WARN("SKIPPED: " << expected.string() << " is absent");
    return;
  }
  // issue116 needs CP50220's extension of ISO-2022-JP (README caveat); glibc lacks it.
  const std::string kNeedsCp50220 = "phpmmp__tests__mails__issue116";
  Json root = JsonReader(ReadFile(expected)).Value();
  std::map<std::string, fs::path> files = CorpusFiles();
  int checked = 0;
  for (const auto& [name, want] : root.members) {
    auto file = files.find(name);
    if (file == files.end() || fs::file_size(file->second) == 0) continue;
    INFO(name);
    Message m = ParseFile(file->second);
    if (const Json* subject = want.Get("subject"); subject && name != kNeedsCp50220) {
      CHECK(m.subject == subject->text);
      ++checked;
    }
    if (const Json* from = want.Get("from_addresses"); from && from->At(0)) {
      const std::string& addr = from->At(0)->Get("address")->text;
      const std::string& display = from->At(0)->Get("display")->text;
      CHECK(m.from.addr == addr);
      // PHP shows the address as the display name when there is none; we leave it empty.
      CHECK(m.from.name == (display == addr ? "" : display));
      ++checked;
    }
    if (const Json* text = want.Get("text_contains")) {
      if (name.find("failure.eml") == std::string::npos)  // README: '?' where PHP failed
        CHECK(m.body_text.find(text->text) != std::string::npos);
    }
  }
  WARN("phpmmp expectations checked: " << checked);
}

// The From header's first mailbox in a stalwart result, or nullptr.
const Json* StalwartFrom(const Json& headers) {
  for (const Json& h : headers.items) {
    if (h.Get("name") && h.Get("name")->text == "from") {
      const Json* list = h.Get("value")->Get("Address");
      list = list ? list->Get("List") : nullptr;
      return list ? list->At(0) : nullptr;
    }
  }
  return nullptr;
}

// expected/stalwart/<base>.json: mail-parser's result for the same .eml (see its README).
TEST_CASE("ParseMessage agrees with stalwart mail-parser's expectations", "[corpus]") {
  fs::path dir = kCorpus / "expected" / "stalwart";
  if (!fs::is_directory(dir)) {
    WARN("SKIPPED: " << dir.string() << " is absent");
    return;
  }
  std::map<std::string, fs::path> files = CorpusFiles();
  int subjects = 0, froms = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string json_name = e.path().filename().string();
    if (e.path().extension() != ".json" || json_name.find(".crlf.") != std::string::npos)
      continue;
    auto file = files.find(e.path().stem().string() + ".eml");
    if (file == files.end()) continue;
    INFO(file->first);
    Message m = ParseFile(file->second);
    Json root = JsonReader(ReadFile(e.path())).Value();
    const Json* headers = root.Get("parts")->At(0)->Get("headers");
    for (const Json& h : headers->items) {
      if (h.Get("name")->text != "subject") continue;
      CHECK(m.subject == h.Get("value")->Get("Text")->text);
      ++subjects;
      break;  // malformed/019 has two Subject fields; the first one counts
    }
    if (const Json* from = StalwartFrom(*headers)) {
      const Json* name = from->Get("name");
      if (from->Get("address")->kind == Json::kString) {
        CHECK(m.from.addr == from->Get("address")->text);
        if (name->kind == Json::kString) CHECK(m.from.name == name->text);
      } else {  // "From: Whomever": our contract keeps a bare local part as the address
        CHECK((m.from.addr.empty() || m.from.addr == name->text));
      }
      ++froms;
    }
  }
  WARN("stalwart expectations checked: " << subjects << " subjects, " << froms << " From");
}

}  // namespace
}  // namespace mailreqd
