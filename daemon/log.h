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

// "alice@example.com" -> "a***@example.com"; anything without '@' -> MaskName.
std::string MaskAddress(std::string_view addr);
// "alice" -> "a***e", "ab" -> "a***"; empty stays empty.
std::string MaskName(std::string_view name);

}  // namespace mailreqd
