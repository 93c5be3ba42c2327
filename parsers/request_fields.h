// Request fields: the username, service and correction fields a customer wrote in their
// own words (parsers/quoting.h cuts the rest away first). Pure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/classify.h"

namespace mailreqd {

// The customer's words in the two forms the readers need: `text` is FoldWidth(words,
// false) (values keep their case), `lower` the same with ASCII lower-cased; both have
// the same length, so an offset found in `lower` is valid in `text`.
struct FoldedWords {
  explicit FoldedWords(std::string_view words);
  std::string text;
  std::string lower;
};

// The first username given with a label: "Username: x", "User name - x", "user name = x",
// "my username is x", "Login: x" / "Account: x" (at the start of a line only), "用戶名稱: x",
// "用户名：x", "用戶名 x". A username is [A-Za-z0-9._-]{1,64} followed by a space,
// punctuation or the end; a trailing "." (end of sentence) is dropped. nullopt if none.
std::optional<std::string> FindUsername(const FoldedWords& words);

// The service the customer names, as its canonical name. A "Service: x" line decides
// (its value resolved through names and aliases, or kept as written, at most 64 bytes,
// when it names none); otherwise every configured name and alias is looked for in
// `words` and `subject_lower` (case-insensitive, word-bounded for latin text); exactly
// one service named gives it, none or several give nullopt.
std::optional<std::string> FindService(const FoldedWords& words, std::string_view subject_lower,
                                       const std::vector<ServiceNames>& services);

// Correction fields from "Label: value" lines (labels listed in parsers/keywords.cc;
// "=" and " is " also separate; "New address:", "my new phone is" forms too). Keys are
// postal_address, telephone, fax, email, name; the first value of each wins; values are
// trimmed, at most 256 bytes.
struct CorrectionFields {
  std::map<std::string, std::string> fields;
  bool announced_new = false;  // some label was preceded by "new"/"新": correction intent
};
CorrectionFields FindCorrectionFields(const FoldedWords& words);

}  // namespace mailreqd
