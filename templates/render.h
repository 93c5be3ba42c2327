// A small Mustache-like template language of our own, for plain-text mail bodies and
// subjects. Pure: strings in, strings out.
//
// Syntax (a subset of Mustache, https://mustache.github.io/mustache.5.html):
//   {{name}}            the value of `name`, inserted as is (nothing is escaped: this is
//                       plain text, never HTML)
//   {{#name}}..{{/name}}  the enclosed text when `name` is not empty
//   {{^name}}..{{/name}}  the enclosed text when `name` is empty
//   {{! comment }}      nothing
// Names are [a-z0-9_]+, spaces inside the braces are allowed ("{{ name }}").
// A section or comment tag alone on its line (spaces around it allowed) takes the whole
// line with it, as in Mustache, so templates can put those tags on lines of their own.
//
// Errors (Status::Permanent, the message starts with "line N: "): "{{" without "}}", a
// malformed tag, a section never closed or closed with the wrong name, and at render time a
// variable the template uses that `vars` does not hold.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/status.h"

namespace mailreqd {

// Variable name -> value (UTF-8).
using TemplateVars = std::map<std::string, std::string>;

class ParsedTemplate {
 public:
  ParsedTemplate() = default;  // renders as ""

  static Result<ParsedTemplate> Parse(std::string_view text);

  // Every variable name the template refers to, in tags of any kind.
  const std::set<std::string>& Variables() const { return variables_; }

  // The text with tags replaced. Permanent error naming a variable missing from `vars`.
  Result<std::string> Render(const TemplateVars& vars) const;

 private:
  enum class NodeKind { kText, kVariable, kSection, kInverted, kEnd };
  struct Node {
    NodeKind kind;
    std::string text;  // literal text, or the variable name
    size_t end = 0;    // sections: index of their kEnd node
  };

  // Flat list; a section that is not shown makes Render() jump to its end node.
  std::vector<Node> nodes_;
  std::set<std::string> variables_;
};

}  // namespace mailreqd
