#include "daemon/csv_reader.h"

namespace mailreqd {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

class CsvParser {
 public:
  explicit CsvParser(std::string_view text) : text_(text) {
    if (text_.substr(0, kUtf8Bom.size()) == kUtf8Bom) pos_ = kUtf8Bom.size();
  }

  std::vector<CsvRecord> All() {
    std::vector<CsvRecord> records;
    while (pos_ < text_.size()) {
      CsvRecord r = Record();
      const bool blank =
          r.error.empty() && r.fields.size() == 1 && r.fields[0].empty() && !last_field_quoted_;
      if (!blank) records.push_back(std::move(r));
    }
    return records;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  // At a record terminator (LF, CRLF) or the end of the text, without consuming it.
  bool AtLineEnd() const {
    return AtEnd() || Peek() == '\n' ||
           (Peek() == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
  }

  // Consumes a record terminator (LF or CRLF) if one is next.
  bool EndOfLine() {
    if (!AtLineEnd()) return false;
    if (AtEnd()) return true;
    pos_ += Peek() == '\r' ? 2 : 1;
    ++line_;
    return true;
  }

  CsvRecord Record() {
    CsvRecord r;
    r.line = line_;
    for (;;) {
      std::string field;
      r.error = (!AtEnd() && Peek() == '"') ? Quoted(field) : Unquoted(field);
      if (!r.error.empty()) {
        SkipRestOfLine();
        return r;
      }
      r.fields.push_back(std::move(field));
      if (EndOfLine()) return r;
      ++pos_;  // the comma: Quoted and Unquoted stop only at a comma or a line end
    }
  }

  std::string Unquoted(std::string& field) {
    last_field_quoted_ = false;
    while (!AtLineEnd() && Peek() != ',') {
      if (Peek() == '"') return "quote inside an unquoted field";
      field.push_back(text_[pos_++]);
    }
    return "";
  }

  std::string Quoted(std::string& field) {
    last_field_quoted_ = true;
    ++pos_;  // opening quote
    for (;;) {
      if (AtEnd()) return "quoted field never closed";
      const char c = text_[pos_++];
      if (c == '\n') ++line_;
      if (c != '"') {
        field.push_back(c);
      } else if (!AtEnd() && Peek() == '"') {
        field.push_back('"');
        ++pos_;
      } else {
        break;
      }
    }
    if (AtLineEnd() || Peek() == ',') return "";
    return "text after a closing quote";
  }

  void SkipRestOfLine() {
    while (!AtEnd() && Peek() != '\n') ++pos_;
    if (!AtEnd()) {
      ++pos_;
      ++line_;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  bool last_field_quoted_ = false;
};

}  // namespace

std::vector<CsvRecord> ReadCsv(std::string_view text) { return CsvParser(text).All(); }

}  // namespace mailreqd
