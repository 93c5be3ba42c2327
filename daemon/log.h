// Logging for operators: one line per event, key=value fields, never message bodies.
// Under systemd (JOURNAL_STREAM set) lines carry sd-daemon priority prefixes and no
// timestamp (journald adds its own); on a terminal they start with a local timestamp;
// LogFormat::kJson writes one JSON object per line for log shippers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailreqd {

enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };
enum class LogFormat { kAuto, kText, kJson };

using LogFields = std::vector<std::pair<std::string, std::string>>;

void SetLogFormat(LogFormat f);
// Writes one line to stderr: "event key=value ..." (values quoted when they hold spaces).
void Log(LogLevel level, std::string_view event, const LogFields& fields = {});

// Lines that go out together, in one write(2) when Flush is called or the batch is
// destroyed: a commit of 500 mails logs 500 lines for one system call, not 500.
// Each line is the one Log would write; not thread-safe (one batch per caller).
class LogBatch {
 public:
  LogBatch() = default;
  LogBatch(const LogBatch&) = delete;
  LogBatch& operator=(const LogBatch&) = delete;
  ~LogBatch() { Flush(); }

  void Add(LogLevel level, std::string_view event, const LogFields& fields = {});
  void Flush();
  void Discard() { lines_.clear(); }  // what was added did not happen after all

 private:
  std::string lines_;
};

// "alice@example.com" -> "a***@example.com"; anything without '@' -> MaskName.
std::string MaskAddress(std::string_view addr);
// "alice" -> "a***e", "ab" -> "a***"; empty stays empty.
std::string MaskName(std::string_view name);

}  // namespace mailreqd
