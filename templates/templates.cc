// TemplateSet: the table of templates and their variables, loading built-ins and overrides,
// validation at load time, rendering with the English fallback.
#include "templates/templates.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <system_error>

namespace mailreqd {
namespace {

namespace fs = std::filesystem;

const char* const kLanguageFolders[] = {"en", "zh-Hant", "zh-Hans"};

const std::vector<std::string> kCommonVariables = {
    "company", "privacy_officer", "privacy_email",    "company_address",
    "name",    "username",        "original_subject", "original_date"};

struct TemplateSpec {
  std::string name;
  std::vector<std::string> variables;  // besides the common ones
};

// The outcomes the daemon replies with, and what each template receives.
const std::vector<TemplateSpec>& Specs() {
  static const std::vector<TemplateSpec> specs = {
      {"unsubscribe_confirmed",
       {"service", "period", "end_date", "end_date_long", "end_date_zh", "token"}},
      {"unsubscribe_already", {"service", "end_date", "end_date_long", "end_date_zh"}},
      {"unsubscribe_nothing_active", {"service"}},
      {"unsubscribe_which_service", {"services"}},
      {"confirm_request", {"request_summary", "token", "expires_date"}},
      {"neutral_ack", {}},
      {"access_data", {"data"}},
      {"correction_done", {"changes"}},
      {"correction_refused", {"reasons"}},
      {"email_change_confirm", {"new_email", "token", "expires_date"}},
      {"email_change_notice", {"new_email_masked"}},
      {"policy_answer", {}},
      {"marketing_optout", {}},
      {"token_invalid", {}},
      {"keep_restored", {"service"}},
      {"request_received", {"due_date"}},
  };
  return specs;
}

const TemplateSpec* FindSpec(std::string_view name) {
  for (const TemplateSpec& s : Specs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool IsLanguageFolder(std::string_view folder) {
  return std::find(std::begin(kLanguageFolders), std::end(kLanguageFolders), folder) !=
         std::end(kLanguageFolders);
}

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string WithLfLineEnds(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out.push_back(text[i]);
  }
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct SubjectAndBody {
  std::string_view subject;
  std::string_view body;
};

// "Subject: ...\n\n<body>" -> its two parts; the error names the rule broken.
Result<SubjectAndBody> SplitTemplateFile(std::string_view text) {
  constexpr std::string_view kSubject = "subject:";
  size_t eol = text.find('\n');
  std::string_view first = text.substr(0, eol);
  bool has_subject =
      first.size() >= kSubject.size() && std::equal(kSubject.begin(), kSubject.end(), first.begin(),
                                                    [](char a, char b) { return a == (b | 0x20); });
  if (!has_subject) return Status::Permanent("line 1: must start with \"Subject:\"");
  if (eol == std::string_view::npos || eol + 1 >= text.size() || text[eol + 1] != '\n') {
    return Status::Permanent("line 2: must be empty (it separates the subject from the body)");
  }
  return SubjectAndBody{TrimSpaces(first.substr(kSubject.size())), text.substr(eol + 2)};
}

// Parse errors in the body count lines from the top of the file.
Status ShiftLine(const Status& s, int by) {
  std::string_view m = s.message();
  constexpr std::string_view kLine = "line ";
  if (m.substr(0, kLine.size()) != kLine) return s;
  size_t end = m.find(':');
  int n = std::atoi(std::string(m.substr(kLine.size(), end - kLine.size())).c_str());
  return Status::Permanent("line " + std::to_string(n + by) + std::string(m.substr(end)));
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Fatal("cannot read " + path.string());
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// <dir>/<lang>/<name>.txt files, sorted so that errors come in a stable order.
Result<std::vector<fs::path>> ListOverrides(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status::Fatal("templates_dir " + dir + " is not a directory");
  std::vector<fs::path> files;
  for (const auto& lang : fs::directory_iterator(dir, ec)) {
    if (!lang.is_directory(ec)) continue;
    for (const auto& f : fs::directory_iterator(lang.path(), ec)) {
      if (f.path().extension() == ".txt" && !f.is_directory(ec)) files.push_back(f.path());
    }
  }
  if (ec) return Status::Fatal("templates_dir " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

const char* LanguageFolder(Language lang) {
  switch (lang) {
    case Language::kTraditionalChinese:
      return kLanguageFolders[1];
    case Language::kSimplifiedChinese:
      return kLanguageFolders[2];
    case Language::kEnglish:
      break;
  }
  return kLanguageFolders[0];
}

const std::vector<std::string>& TemplateSet::Names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const TemplateSpec& s : Specs()) n.push_back(s.name);
    return n;
  }();
  return names;
}

std::vector<std::string> TemplateSet::Variables(const std::string& name) {
  const TemplateSpec* spec = FindSpec(name);
  if (spec == nullptr) return {};
  std::vector<std::string> vars = kCommonVariables;
  vars.insert(vars.end(), spec->variables.begin(), spec->variables.end());
  return vars;
}

// Validates and stores one file; `key` is "<lang>/<name>", `source` names it in errors.
Status TemplateSet::Add(const std::string& key, const std::string& source, std::string text) {
  auto fail = [&](const std::string& why) { return Status::Fatal(source + ": " + why); };
  size_t slash = key.find('/');
  std::string name = key.substr(slash + 1);
  if (slash == std::string::npos || !IsLanguageFolder(key.substr(0, slash))) {
    return fail("unknown language folder (known: en, zh-Hant, zh-Hans)");
  }
  if (FindSpec(name) == nullptr) return fail("unknown template name \"" + name + "\"");
  if (!IsValidUtf8(text)) return fail("not valid UTF-8");
  text = WithLfLineEnds(text);
  Result<SubjectAndBody> parts = SplitTemplateFile(text);
  if (!parts.ok()) return fail(parts.status().message());
  Result<ParsedTemplate> subject = ParsedTemplate::Parse(parts->subject);
  if (!subject.ok()) return fail(subject.status().message());
  Result<ParsedTemplate> body = ParsedTemplate::Parse(parts->body);
  if (!body.ok()) return fail(ShiftLine(body.status(), 2).message());

  std::vector<std::string> allowed = Variables(name);
  for (const ParsedTemplate* t : {&*subject, &*body}) {
    for (const std::string& v : t->Variables()) {
      if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        return fail("variable \"" + v +
                    "\" is not available here (allowed: " + Join(allowed, ", ") + ")");
      }
    }
  }
  compiled_[key] = Compiled{std::move(*subject), std::move(*body)};
  files_[key] = std::move(text);
  return Status::Ok();
}

Result<TemplateSet> TemplateSet::Load(const std::string& override_dir) {
  TemplateSet set;
  std::vector<std::string> errors;
  for (const BuiltinTemplateFile& f : BuiltinTemplateFiles()) {
    std::string path = f.path;
    std::string key = path.substr(0, path.size() - 4);  // without ".txt"
    Status s = set.Add(key, "built-in template " + path,
                       std::string(reinterpret_cast<const char*>(f.data), f.size));
    if (!s.ok()) errors.push_back(s.message());
  }
  if (!override_dir.empty()) {
    Result<std::vector<fs::path>> files = ListOverrides(override_dir);
    if (!files.ok()) return files.status();
    for (const fs::path& p : *files) {
      Result<std::string> text = ReadWholeFile(p);
      std::string key = p.parent_path().filename().string() + "/" + p.stem().string();
      Status s = text.ok() ? set.Add(key, p.string(), std::move(*text)) : text.status();
      if (!s.ok()) errors.push_back(s.message());
    }
  }
  for (const std::string& name : Names()) {
    if (set.compiled_.count("en/" + name) == 0) errors.push_back("no English template " + name);
  }
  if (!errors.empty()) return Status::Fatal("templates: " + Join(errors, "; "));
  return set;
}

Result<Rendered> TemplateSet::Render(const std::string& name, Language lang,
                                     const TemplateVars& vars) const {
  auto it = compiled_.find(std::string(LanguageFolder(lang)) + "/" + name);
  if (it == compiled_.end()) it = compiled_.find("en/" + name);
  if (it == compiled_.end()) return Status::Permanent("no template named \"" + name + "\"");
  Result<std::string> subject = it->second.subject.Render(vars);
  if (!subject.ok()) return Status::Permanent(name + " subject: " + subject.status().message());
  Result<std::string> body = it->second.body.Render(vars);
  if (!body.ok()) return Status::Permanent(name + ": " + body.status().message());

  Rendered r{std::string(TrimSpaces(*subject)), std::move(*body)};
  while (!r.body.empty() && (r.body.back() == '\n' || r.body.back() == ' ')) r.body.pop_back();
  r.body.push_back('\n');
  return r;
}

}  // namespace mailreqd
