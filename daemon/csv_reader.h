// An RFC 4180 CSV reader over text in memory: fields separated by commas, records by
// CRLF or LF, fields optionally in double quotes, where a quoted field may hold commas,
// line breaks and doubled quotes ("" = one "). Pure: no files, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailreqd {

struct CsvRecord {
  int line = 0;                     // physical line (1-based) where the record starts
  std::vector<std::string> fields;  // unquoted, "" unescaped, line breaks kept as found
  std::string error;                // non-empty: malformed; fields are then incomplete
};

// Splits `text` into records. A leading UTF-8 byte-order mark is ignored (spreadsheets
// write one); a final line break is optional; empty lines are skipped. A malformed
// record (text after a closing quote, a quote inside an unquoted field, a quoted field
// never closed) is returned with `error` set, and reading resumes on the next line, so
// every bad record can be reported at once.
std::vector<CsvRecord> ReadCsv(std::string_view text);

}  // namespace mailreqd
