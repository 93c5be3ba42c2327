#include "daemon/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "daemon/json.h"

namespace mailreqd {
namespace {

LogFormat g_format = LogFormat::kAuto;
std::mutex g_mutex;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kNotice: return "notice";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "info";
}

std::string Quoted(const std::string& v) {
  bool plain = !v.empty();
  for (unsigned char c : v) plain = plain && c > ' ' && c != '"' && c != '=' && c < 0x7f;
  if (plain) return v;
  std::string out = "\"";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c < ' ') ? ' ' : static_cast<char>(c);  // a log line stays one line
  }
  return out + "\"";
}

std::string TextLine(LogLevel level, std::string_view event, const LogFields& fields,
                     bool journald) {
  std::string line;
  if (journald) {
    line = "<" + std::to_string(static_cast<int>(level)) + ">";
  } else {
    char ts[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S ", &tm);
    line = ts;
    line += LevelName(level);
    line += ' ';
  }
  line += event;
  for (const auto& [k, v] : fields) line += " " + k + "=" + Quoted(v);
  return line;
}

std::string JsonLine(LogLevel level, std::string_view event, const LogFields& fields) {
  JsonObject o;
  o.Add("ts", static_cast<int64_t>(std::time(nullptr)));
  o.Add("level", LevelName(level));
  o.Add("event", std::string(event));
  for (const auto& [k, v] : fields) o.Add(k, v);
  return o.str();
}

std::string Line(LogLevel level, std::string_view event, const LogFields& fields) {
  static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
  std::string line = g_format == LogFormat::kJson ? JsonLine(level, event, fields)
                                                  : TextLine(level, event, fields, journald);
  line += '\n';
  return line;
}

// A pipe to journald takes a long batch in parts; a signal may cut a write short.
void WriteAll(std::string_view text) {
  std::lock_guard<std::mutex> lock(g_mutex);
  while (!text.empty()) {
    ssize_t n = write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: nothing better to do
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void SetLogFormat(LogFormat f) { g_format = f; }

void Log(LogLevel level, std::string_view event, const LogFields& fields) {
  WriteAll(Line(level, event, fields));
}

void LogBatch::Add(LogLevel level, std::string_view event, const LogFields& fields) {
  lines_ += Line(level, event, fields);
}

void LogBatch::Flush() {
  if (lines_.empty()) return;
  WriteAll(lines_);
  lines_.clear();
}

std::string MaskName(std::string_view name) {
  if (name.empty()) return "";
  std::string out(1, name.front());
  out += "***";
  if (name.size() > 2) out += name.back();
  return out;
}

std::string MaskAddress(std::string_view addr) {
  auto at = addr.rfind('@');
  if (at == std::string_view::npos) return MaskName(addr);
  std::string out = addr.empty() || at == 0 ? std::string("***") : std::string(1, addr.front()) + "***";
  return out + std::string(addr.substr(at));
}

}  // namespace mailreqd
