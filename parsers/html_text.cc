// HTML to text with one forward pass and no DOM: enough to read what a customer wrote.
// Entity rules follow the HTML Living Standard §13.2.5.72-80 (numeric references in
// 0x80-0x9F are read as windows-1252, like browsers do).
#include "parsers/html_text.h"

#include <cstdint>
#include <map>
#include <set>

namespace mailreqd {
namespace {

std::string Utf8(uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

// HTML5 §13.2.5.80: numeric references 0x80-0x9F name windows-1252 characters.
constexpr uint16_t kWindows1252[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};

const std::map<std::string_view, uint32_t>& NamedEntities() {
  static const auto* const kNamed = new std::map<std::string_view, uint32_t>{
      {"nbsp", ' '},     {"ensp", ' '},     {"emsp", ' '},     {"thinsp", ' '},
      {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
      {"apos", '\''},    {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122},
      {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018},
      {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
      {"bdquo", 0x201E}, {"laquo", 0xAB},   {"raquo", 0xBB},   {"euro", 0x20AC},
      {"pound", 0xA3},   {"yen", 0xA5},     {"cent", 0xA2},    {"middot", 0xB7},
      {"bull", 0x2022},  {"times", 0xD7},   {"divide", 0xF7},  {"deg", 0xB0},
      {"plusmn", 0xB1},  {"sect", 0xA7},    {"para", 0xB6},    {"iexcl", 0xA1},
      {"iquest", 0xBF},  {"auml", 0xE4},    {"ouml", 0xF6},    {"uuml", 0xFC},
      {"Auml", 0xC4},    {"Ouml", 0xD6},    {"Uuml", 0xDC},    {"szlig", 0xDF},
      {"eacute", 0xE9},  {"egrave", 0xE8},  {"ecirc", 0xEA},   {"Eacute", 0xC9},
      {"aacute", 0xE1},  {"agrave", 0xE0},  {"acirc", 0xE2},   {"ccedil", 0xE7},
      {"ntilde", 0xF1},  {"oacute", 0xF3},  {"iacute", 0xED},  {"uacute", 0xFA},
      {"aring", 0xE5},   {"oslash", 0xF8},  {"aelig", 0xE6},   {"ocirc", 0xF4},
  };
  return *kNamed;
}

uint32_t NumericEntity(std::string_view digits, int base) {
  uint32_t cp = 0;
  if (digits.empty()) return 0xFFFD;
  for (char c : digits) {
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    if (v >= base) return 0xFFFD;
    cp = cp * base + v;
    if (cp > 0x10FFFF) return 0xFFFD;
  }
  return cp >= 0x80 && cp <= 0x9F ? kWindows1252[cp - 0x80] : cp;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Collapses whitespace and writes line breaks and "> " quote prefixes lazily, so no
// trailing spaces or empty quoted lines are produced.
class TextWriter {
 public:
  void Text(std::string_view s) {
    for (char c : s) {
      if (IsSpace(c)) {
        space_ = true;
        continue;
      }
      if (!out_.empty() && breaks_ > 0) {
        out_.append(breaks_, '\n');
        line_start_ = true;
      }
      if (line_start_) {
        for (int i = 0; i < quote_; ++i) out_ += "> ";
      } else if (space_) {
        out_.push_back(' ');
      }
      out_.push_back(c);
      breaks_ = 0;
      space_ = line_start_ = false;
    }
  }
  void LineBreak() { breaks_ = breaks_ < 2 ? breaks_ + 1 : 2; }  // <br>: counts
  void BlockBreak() { breaks_ = breaks_ < 1 ? 1 : breaks_; }     // <p>, <div>: at least one
  void Quote(int delta) {
    BlockBreak();
    quote_ = quote_ + delta < 0 ? 0 : quote_ + delta;
  }
  std::string Finish() { return std::move(out_); }

 private:
  std::string out_;
  int breaks_ = 0;
  int quote_ = 0;
  bool space_ = false;
  bool line_start_ = true;
};

enum class TagKind { kInline, kLineBreak, kBlock, kCell, kQuote, kSkipContent };

TagKind KindOf(const std::string& name) {
  static const auto* const kKinds = new std::map<std::string, TagKind, std::less<>>{
      {"br", TagKind::kLineBreak}, {"p", TagKind::kBlock},      {"div", TagKind::kBlock},
      {"li", TagKind::kBlock},     {"tr", TagKind::kBlock},     {"table", TagKind::kBlock},
      {"ul", TagKind::kBlock},     {"ol", TagKind::kBlock},     {"hr", TagKind::kBlock},
      {"h1", TagKind::kBlock},     {"h2", TagKind::kBlock},     {"h3", TagKind::kBlock},
      {"h4", TagKind::kBlock},     {"h5", TagKind::kBlock},     {"h6", TagKind::kBlock},
      {"dt", TagKind::kBlock},     {"dd", TagKind::kBlock},     {"pre", TagKind::kBlock},
      {"td", TagKind::kCell},      {"th", TagKind::kCell},      {"blockquote", TagKind::kQuote},
      {"script", TagKind::kSkipContent}, {"style", TagKind::kSkipContent},
      {"head", TagKind::kSkipContent},   {"title", TagKind::kSkipContent},
  };
  auto it = kKinds->find(name);
  return it == kKinds->end() ? TagKind::kInline : it->second;
}

// Index just past the "</name ...>" that closes a skipped element, or npos if none.
size_t SkipElement(std::string_view h, size_t from, const std::string& name) {
  for (size_t p = h.find("</", from); p != std::string_view::npos; p = h.find("</", p + 2)) {
    size_t k = 0;
    while (k < name.size() && p + 2 + k < h.size() && Lower(h[p + 2 + k]) == name[k]) ++k;
    if (k == name.size()) {
      size_t gt = h.find('>', p);
      return gt == std::string_view::npos ? h.size() : gt + 1;
    }
  }
  return std::string_view::npos;
}

class Converter {
 public:
  explicit Converter(std::string_view h) : h_(h) {}

  std::string Run() {
    size_t i = 0;
    while (i < h_.size()) {
      size_t stop = i;  // not find_first_of: libstdc++'s calls memchr once per character
      while (stop < h_.size() && h_[stop] != '<' && h_[stop] != '&') ++stop;
      out_.Text(h_.substr(i, stop - i));
      if (stop == h_.size()) break;
      i = h_[stop] == '&' ? Entity(stop) : Tag(stop);
    }
    return out_.Finish();
  }

 private:
  size_t Entity(size_t amp) {
    size_t semi = h_.find(';', amp);
    if (semi != std::string_view::npos && semi - amp <= 32) {
      std::string text = DecodeHtmlEntity(h_.substr(amp + 1, semi - amp - 1));
      if (!text.empty()) {
        out_.Text(text);
        return semi + 1;
      }
    }
    out_.Text("&");
    return amp + 1;
  }

  size_t Tag(size_t lt) {
    std::string_view rest = h_.substr(lt);
    if (rest.substr(0, 4) == "<!--") {
      size_t end = h_.find("-->", lt + 4);
      return end == std::string_view::npos ? h_.size() : end + 3;
    }
    bool closing = rest.size() > 1 && rest[1] == '/';
    size_t name_at = lt + (closing ? 2 : 1);
    if (name_at >= h_.size() || !(IsAlpha(h_[name_at]) || h_[name_at] == '!' || h_[name_at] == '?')) {
      out_.Text("<");  // a lone "<" in text, as in "a < b"
      return lt + 1;
    }
    size_t gt = h_.find('>', name_at);
    size_t end = gt == std::string_view::npos ? h_.size() : gt + 1;
    std::string name;
    for (size_t k = name_at; k < h_.size() && (IsAlpha(h_[k]) || (h_[k] >= '0' && h_[k] <= '9')); ++k)
      name.push_back(Lower(h_[k]));
    return Apply(KindOf(name), closing, name, end);
  }

  size_t Apply(TagKind kind, bool closing, const std::string& name, size_t end) {
    switch (kind) {
      case TagKind::kLineBreak: out_.LineBreak(); break;
      case TagKind::kBlock: out_.BlockBreak(); break;
      case TagKind::kCell: out_.Text(" "); break;
      case TagKind::kQuote: out_.Quote(closing ? -1 : 1); break;
      case TagKind::kSkipContent:
        if (!closing && h_[end - 1] == '>' && h_[end - 2] != '/') return Skip(name, end);
        break;
      case TagKind::kInline: break;
    }
    return end;
  }

  // An unclosed <head> must not eat the whole mail: without a closing tag only the tag
  // is dropped. Remembers misses so "<script>" x 10^5 stays linear.
  size_t Skip(const std::string& name, size_t end) {
    if (unclosed_.count(name)) return end;
    size_t after = SkipElement(h_, end, name);
    if (after != std::string_view::npos) return after;
    unclosed_.insert(name);
    return end;
  }

  std::string_view h_;
  TextWriter out_;
  std::set<std::string> unclosed_;
};

}  // namespace

std::string DecodeHtmlEntity(std::string_view name) {
  if (name.size() > 1 && name[0] == '#') {
    bool hex = name[1] == 'x' || name[1] == 'X';
    return Utf8(NumericEntity(name.substr(hex ? 2 : 1), hex ? 16 : 10));
  }
  auto it = NamedEntities().find(name);
  return it == NamedEntities().end() ? "" : Utf8(it->second);
}

std::string HtmlToText(std::string_view html) { return Converter(html).Run(); }

}  // namespace mailreqd
