// The template language of render.h: one left-to-right scan builds a flat node list; no
// regex, no recursion, so a hostile override file costs linear time.
#include "templates/render.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace mailreqd {
namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";

struct Tag {
  char sigil = 0;  // 0 for a variable, else one of # ^ / !
  std::string name;
};

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// The text between "{{" and "}}" as a Tag, or nullopt when it is malformed.
std::optional<Tag> ParseTag(std::string_view inner) {
  Tag tag;
  if (!inner.empty() && std::string_view("#^/!").find(inner.front()) != std::string_view::npos) {
    tag.sigil = inner.front();
    inner.remove_prefix(1);
  }
  if (tag.sigil == '!') return tag;
  inner = Trim(inner);
  if (!IsValidName(inner)) return std::nullopt;
  tag.name = std::string(inner);
  return tag;
}

// Mustache's "standalone" rule: when a non-variable tag spanning [open, close_end) is the only
// thing on its line, returns [line start, just past the line's newline) so the caller drops
// the whole line. `scan_from` is where literal text since the previous tag begins; a line
// that started before it holds another tag and is not standalone.
std::optional<std::pair<size_t, size_t>> StandaloneLine(std::string_view text, size_t scan_from,
                                                        size_t open, size_t close_end) {
  size_t line_start = text.rfind('\n', open == 0 ? 0 : open - 1);
  line_start = (line_start == std::string_view::npos || open == 0) ? 0 : line_start + 1;
  if (line_start < scan_from || !IsBlank(text.substr(line_start, open - line_start))) {
    return std::nullopt;
  }
  size_t newline = text.find('\n', close_end);
  size_t line_end = newline == std::string_view::npos ? text.size() : newline;
  if (!IsBlank(text.substr(close_end, line_end - close_end))) return std::nullopt;
  return std::make_pair(line_start, newline == std::string_view::npos ? line_end : line_end + 1);
}

Status LineError(size_t line, const std::string& what) {
  return Status::Permanent("line " + std::to_string(line) + ": " + what);
}

}  // namespace

Result<ParsedTemplate> ParsedTemplate::Parse(std::string_view text) {
  ParsedTemplate t;
  std::vector<std::pair<size_t, size_t>> open_sections;  // index into nodes_, line
  size_t pos = 0, line = 1, counted_to = 0;
  while (pos < text.size()) {
    size_t open = text.find(kOpen, pos);
    if (open == std::string_view::npos) {
      t.nodes_.push_back({NodeKind::kText, std::string(text.substr(pos)), 0});
      break;
    }
    line += std::count(text.begin() + counted_to, text.begin() + open, '\n');
    counted_to = open;
    size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) return LineError(line, "\"{{\" without \"}}\"");
    std::string_view inner = text.substr(open + kOpen.size(), close - open - kOpen.size());
    std::optional<Tag> tag = ParseTag(inner);
    if (!tag) return LineError(line, "malformed tag \"{{" + std::string(inner) + "}}\"");

    size_t text_end = open, next = close + kClose.size();
    if (tag->sigil != 0) {
      if (auto span = StandaloneLine(text, pos, open, next)) {
        text_end = span->first;
        next = span->second;
      }
    }
    if (text_end > pos)
      t.nodes_.push_back({NodeKind::kText, std::string(text.substr(pos, text_end - pos)), 0});
    pos = next;
    if (tag->sigil == '!') continue;
    t.variables_.insert(tag->name);

    switch (tag->sigil) {
      case 0:
        t.nodes_.push_back({NodeKind::kVariable, tag->name, 0});
        break;
      case '#':
      case '^':
        open_sections.push_back({t.nodes_.size(), line});
        t.nodes_.push_back(
            {tag->sigil == '#' ? NodeKind::kSection : NodeKind::kInverted, tag->name, 0});
        break;
      case '/':
        if (open_sections.empty())
          return LineError(line, "{{/" + tag->name + "}} closes no section");
        Node& section = t.nodes_[open_sections.back().first];
        if (section.text != tag->name) {
          return LineError(line, "{{/" + tag->name + "}} closes section \"" + section.text + "\"");
        }
        section.end = t.nodes_.size();
        open_sections.pop_back();
        t.nodes_.push_back({NodeKind::kEnd, tag->name, 0});
        break;
    }
  }
  if (!open_sections.empty()) {
    auto [index, open_line] = open_sections.back();
    return LineError(open_line, "section \"" + t.nodes_[index].text + "\" is never closed");
  }
  return t;
}

Result<std::string> ParsedTemplate::Render(const TemplateVars& vars) const {
  std::string out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.kind == NodeKind::kText) {
      out += n.text;
      continue;
    }
    if (n.kind == NodeKind::kEnd) continue;
    auto it = vars.find(n.text);
    if (it == vars.end()) return Status::Permanent("missing template variable \"" + n.text + "\"");
    if (n.kind == NodeKind::kVariable) {
      out += it->second;
    } else if (it->second.empty() == (n.kind == NodeKind::kSection)) {
      i = n.end;  // section hidden: continue after its end node
    }
  }
  return out;
}

}  // namespace mailreqd
