// A minimal JSON writer for the CLI's one-object-per-line output. Header-only so that any
// library can use it. Strings are emitted as UTF-8 with the RFC 8259 escapes; invalid
// UTF-8 is the caller's concern (the parsers already replace it with U+FFFD).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace mailreqd {

// The JSON escape of c, a byte that needs one.
inline void AppendJsonEscape(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    }
  }
}

// Bytes that need no escape, nearly all of a log line, are copied a run at a time.
inline std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  std::size_t copied = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(copied, i - copied));
    AppendJsonEscape(out, c);
    copied = i + 1;
  }
  out.append(s.substr(copied));
  out.push_back('"');
  return out;
}

// Builds one JSON object: JsonObject().Add("a", "x").Add("n", 3).str() -> {"a":"x","n":3}
class JsonObject {
 public:
  JsonObject& Add(std::string_view key, std::string_view v) { return Raw(key, JsonString(v)); }
  JsonObject& Add(std::string_view key, const char* v) { return Raw(key, JsonString(v)); }
  JsonObject& Add(std::string_view key, const std::string& v) { return Raw(key, JsonString(v)); }
  JsonObject& Add(std::string_view key, bool v) { return Raw(key, v ? "true" : "false"); }
  JsonObject& Add(std::string_view key, int64_t v) { return Raw(key, std::to_string(v)); }
  JsonObject& Add(std::string_view key, int v) { return Raw(key, std::to_string(v)); }
  JsonObject& Add(std::string_view key, const std::optional<std::string>& v) {
    return v ? Add(key, *v) : Null(key);
  }
  JsonObject& Null(std::string_view key) { return Raw(key, "null"); }
  // `json` must already be valid JSON (a nested object or array).
  JsonObject& Raw(std::string_view key, std::string_view json) {
    body_ += body_.empty() ? "{" : ",";
    body_ += JsonString(key);
    body_ += ':';
    body_ += json;
    return *this;
  }
  std::string str() const { return body_.empty() ? "{}" : body_ + "}"; }

 private:
  std::string body_;
};

// Joins already-serialized JSON values into an array.
template <typename Range>
std::string JsonArray(const Range& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += item;
  }
  return out + "]";
}

}  // namespace mailreqd
