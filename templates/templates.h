// TemplateSet: the reply texts, one template per outcome and language, each with its
// subject and body. Built-in templates (templates/<lang>/<name>.txt) are compiled into the
// binary; an operator's folder may override any file. Load() validates every template
// against its known variables, so an unknown name or variable is a config error at start
// (check-config), never at send time. Rendering is plain text: nothing is HTML-escaped.
//
// File format (UTF-8, LF or CRLF line ends):
//   Subject: <subject template>       may be empty after the colon: the caller then uses
//   <empty line>                      "Re: " + the original subject
//   <body template ...>
// Template syntax: templates/render.h. Language folders: "en", "zh-Hant", "zh-Hans".
//
// Variables: every template may use the common ones (company, privacy_officer,
// privacy_email, company_address, name, username, original_subject, original_date) plus
// those listed for it in templates.cc (Variables(name) returns the whole set). Values the
// caller does not have are passed as "": templates show optional parts with {{#var}}.
// Conventions for the values: dates "end_date", "due_date", "expires_date" are ISO
// (2026-02-27); "end_date_long" is "27 February 2026" and "end_date_zh" "2026年2月27日";
// "token" is the bare 26-character token, templates write it as "[ref:{{token}}]";
// "services", "data", "changes", "reasons" are blocks of lines without a final newline.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "daemon/status.h"
#include "parsers/classify.h"
#include "templates/render.h"

namespace mailreqd {

struct Rendered {
  std::string subject;  // may be empty: the caller then uses "Re: " + original subject
  std::string body;     // UTF-8, LF line ends, ends with one "\n"
};

// "en", "zh-Hant", "zh-Hans": the folder holding a language's templates.
const char* LanguageFolder(Language lang);

class TemplateSet {
 public:
  // Built-ins, overridden by files in `override_dir` (empty: none), laid out as the
  // built-ins are: <override_dir>/<lang>/<name>.txt. Fatal error naming the file for a
  // template that does not parse, uses a variable not allowed for it, or whose name or
  // language is unknown (a misspelt override would otherwise be silently ignored); other
  // files (README, *.orig) are ignored. Fatal when `override_dir` is not a directory.
  static Result<TemplateSet> Load(const std::string& override_dir);
  // Every template name the daemon uses, e.g. "unsubscribe_confirmed".
  static const std::vector<std::string>& Names();
  // The variables template `name` may use (common ones included); empty for unknown names.
  static std::vector<std::string> Variables(const std::string& name);

  // Renders `name` in `lang`, falling back to English when that language has no file.
  // Missing variables are an error (Permanent): Load() has already ruled them out for
  // the variables each template is documented to receive.
  Result<Rendered> Render(const std::string& name, Language lang, const TemplateVars& vars) const;

 private:
  struct Compiled {
    ParsedTemplate subject;
    ParsedTemplate body;
  };
  Status Add(const std::string& key, const std::string& source, std::string text);

  std::map<std::string, std::string> files_;  // "en/unsubscribe_confirmed" -> text
  std::map<std::string, Compiled> compiled_;  // same keys
};

// The built-in files, generated at build time by templates/embed.cmake.
struct BuiltinTemplateFile {
  const char* path;  // "en/unsubscribe_confirmed.txt"
  const unsigned char* data;
  size_t size;
};
std::span<const BuiltinTemplateFile> BuiltinTemplateFiles();

}  // namespace mailreqd
