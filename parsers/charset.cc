// Charset conversion with glibc iconv. Labels come from mail headers (RFC 2045 §5.1,
// RFC 2047 §2, RFC 2231 §5) and often lie or use vendor aliases, so every failure path
// degrades to U+FFFD instead of an error.
#include "parsers/charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

namespace mailreqd {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4 table), or 0.
size_t SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size()) return 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds for the second byte
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Labels seen in real mail -> the iconv name that decodes them best. Vendor supersets are
// used on purpose: mail labelled gb2312/big5/shift_jis/euc-kr is usually written by
// software that emits GB18030/CP950/CP932/CP949 characters.
const std::map<std::string, std::string, std::less<>>& Aliases() {
  static const auto* const kAliases = new std::map<std::string, std::string, std::less<>>{
      {"utf-8", "UTF-8"},         {"utf8", "UTF-8"},           {"us-ascii", "UTF-8"},
      {"ascii", "UTF-8"},         {"ansi_x3.4-1968", "UTF-8"}, {"646", "UTF-8"},
      {"latin1", "ISO-8859-1"},   {"latin-1", "ISO-8859-1"},   {"l1", "ISO-8859-1"},
      {"big5", "CP950"},          {"x-big5", "CP950"},         {"cn-big5", "CP950"},
      {"big-5", "CP950"},         {"cp950", "CP950"},          {"big5-hkscs", "BIG5-HKSCS"},
      {"big5hkscs", "BIG5-HKSCS"}, {"gb2312", "GB18030"},      {"gbk", "GB18030"},
      {"x-gbk", "GB18030"},       {"cp936", "GB18030"},        {"gb18030", "GB18030"},
      {"euc-cn", "GB18030"},      {"x-euc-cn", "GB18030"},     {"csgb2312", "GB18030"},
      {"shift_jis", "CP932"},     {"shift-jis", "CP932"},      {"sjis", "CP932"},
      {"x-sjis", "CP932"},        {"ms_kanji", "CP932"},       {"windows-31j", "CP932"},
      {"cp932", "CP932"},         {"euc-kr", "CP949"},         {"ks_c_5601-1987", "CP949"},
      {"ks_c_5601", "CP949"},     {"korean", "CP949"},         {"cp949", "CP949"},
      {"iso-2022-jp", "ISO-2022-JP-2"}, {"euc-jp", "EUC-JP"},  {"x-mac-cyrillic", "MAC-CYRILLIC"},
      {"unicode-1-1-utf-7", "UTF-7"}, {"tis-620", "TIS-620"},  {"windows-874", "CP874"},
  };
  return *kAliases;
}

// "ISO_8859-2", "iso8859-2", "iso-8859-2:1987", "iso-8859-8-i" (RFC 1556) -> "ISO-8859-N"; "cp1252"/"x-cp1252" ->
// "WINDOWS-1252". Returns "" when the label has neither shape.
std::string FamilyName(std::string_view l) {
  for (std::string_view p : {"iso-8859-", "iso_8859-", "iso8859-", "iso8859_"}) {
    if (l.substr(0, p.size()) == p) {
      std::string num(l.substr(p.size(), l.find_first_of(":-", p.size()) - p.size()));
      return num.empty() ? "" : "ISO-8859-" + num;
    }
  }
  for (std::string_view p : {"windows-", "cp", "x-cp", "win-"}) {
    if (l.substr(0, p.size()) == p && l.size() == p.size() + 4 && l.substr(p.size(), 3) == "125")
      return "WINDOWS-" + std::string(l.substr(p.size()));
  }
  return "";
}

std::string NormalizeLabel(std::string_view label) {
  std::string l;
  for (char c : label.substr(0, 64)) {
    if (c == '*') break;  // RFC 2231 §5 language suffix
    if (c == '"' || c == '\'' || c == ' ' || c == '\t') continue;
    l.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return l;
}

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
using IconvHandle = std::unique_ptr<void, IconvCloser>;

// One converter per source charset and thread, reused: iconv_open costs more than
// converting a typical header.  nullptr means iconv does not know the name.
iconv_t Converter(const std::string& name) {
  thread_local std::map<std::string, IconvHandle> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    void* handle = cd == reinterpret_cast<iconv_t>(-1) ? nullptr : cd;
    it = cache.emplace(name, IconvHandle(handle)).first;
  }
  return static_cast<iconv_t>(it->second.get());
}

std::string Convert(iconv_t cd, std::string_view in) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
  std::string out(in.size() * 2 + 16, '\0');
  char* inp = const_cast<char*>(in.data());  // iconv's API is not const-correct
  size_t in_left = in.size(), used = 0;
  while (true) {
    char* outp = out.data() + used;
    size_t out_left = out.size() - used;
    size_t r = in_left ? iconv(cd, &inp, &in_left, &outp, &out_left)
                       : iconv(cd, nullptr, nullptr, &outp, &out_left);
    used = static_cast<size_t>(outp - out.data());
    if (r != static_cast<size_t>(-1) && in_left == 0) break;
    if (r == static_cast<size_t>(-1) && errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    if (r == static_cast<size_t>(-1)) {  // EILSEQ or EINVAL: skip one byte
      if (out.size() - used < kReplacement.size()) out.resize(out.size() * 2);
      out.replace(used, kReplacement.size(), kReplacement);
      used += kReplacement.size();
      ++inp;
      --in_left;
    }
  }
  out.resize(used);
  if (IsValidUtf8(out)) return out;
  return MakeValidUtf8(out);
}

// Index of the first byte at or after i that is not ASCII (or s.size()). Mail text is
// mostly ASCII, so eight bytes are tested at a time.
size_t SkipAscii(std::string_view s, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  for (uint64_t word; i + 8 <= s.size(); i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    if (word & kHighBits) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

// Index of the first byte at or after `from` that starts an ill-formed UTF-8 sequence, or
// s.size() (`from` must start a sequence).
size_t ValidPrefix(std::string_view s, size_t from) {
  for (size_t i = SkipAscii(s, from); i < s.size(); i = SkipAscii(s, i)) {
    size_t n = SequenceLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return s.size();
}

}  // namespace

bool IsValidUtf8(std::string_view bytes) { return ValidPrefix(bytes, 0) == bytes.size(); }

std::string MakeValidUtf8(std::string_view bytes) {
  size_t i = ValidPrefix(bytes, 0);
  if (i == bytes.size()) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 16);
  out.append(bytes.substr(0, i));
  while (i < bytes.size()) {  // bytes[i] starts an ill-formed sequence
    out += kReplacement;
    size_t valid_end = ValidPrefix(bytes, i + 1);
    out.append(bytes.substr(i + 1, valid_end - i - 1));
    i = valid_end;
  }
  return out;
}

std::string CanonicalCharset(std::string_view label) {
  std::string l = NormalizeLabel(label);
  if (l.empty()) return "";
  if (auto it = Aliases().find(l); it != Aliases().end()) return it->second;
  std::string name = FamilyName(l);
  if (name.empty()) {  // try the label as iconv spells it: koi8-r, utf-16le, euc-tw...
    for (char c : l) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) return "";
      name.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
  }
  return Converter(name) ? name : "";
}

std::string MakeValidUtf8Owned(std::string bytes) {
  if (IsValidUtf8(bytes)) return bytes;
  return MakeValidUtf8(bytes);
}

std::string ToUtf8(std::string_view bytes, std::string_view charset) {
  std::string name = CanonicalCharset(charset);
  if (name.empty() || name == "UTF-8") return MakeValidUtf8(bytes);
  iconv_t cd = Converter(name);
  return cd ? Convert(cd, bytes) : MakeValidUtf8(bytes);
}

std::string ToUtf8Owned(std::string bytes, std::string_view charset) {
  std::string name = CanonicalCharset(charset);
  if (name.empty() || name == "UTF-8") return MakeValidUtf8Owned(std::move(bytes));
  iconv_t cd = Converter(name);
  return cd ? Convert(cd, bytes) : MakeValidUtf8Owned(std::move(bytes));
}

}  // namespace mailreqd
