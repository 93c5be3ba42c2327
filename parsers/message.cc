// ParseMessage: raw RFC 5322 bytes -> Message. The limits are enforced while walking, not
// after: nesting deeper than max_depth is never descended, at most max_parts leaves are
// looked at, header values are cut at max_header_line, and only the one chosen text part
// is ever decoded (attachments are skipped by searching for the next boundary).
#include "parsers/message.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "parsers/address.h"
#include "parsers/charset.h"
#include "parsers/encoded_words.h"
#include "parsers/html_text.h"
#include "parsers/mime_adapter.h"

namespace mailreqd {
namespace {

constexpr size_t kMaxDefects = 64;          // bounded memory on 10,000 broken parts
constexpr size_t kMaxBoundary = 200;        // RFC 2046 §5.1.1 allows 70; be lenient
constexpr size_t kEncodedTextFactor = 4;    // encoded/HTML bytes read per kept text byte

// A text leaf chosen for body_text, not yet decoded.
struct TextPart {
  std::string_view body;
  std::string charset;
  std::string encoding;
  bool html = false;
};

// Walks the entity tree depth-first, recording part types and the text candidates.
class Walker {
 public:
  Walker(const ParseLimits& limits, Message* msg) : limits_(limits), msg_(msg) {}

  void Visit(const HeaderBlock& h, const ContentType& ct, int depth) {
    if (++entities_ > 2 * static_cast<long>(limits_.max_parts)) return Defect("too many entities");
    if (ct.IsMultipart()) return Multipart(h, ct, depth);
    if (++leaves_ > limits_.max_parts) return Defect("more than max_parts parts; rest ignored");
    msg_->part_types.push_back(ct.Full());
    bool attachment = DispositionType(h.Get("content-disposition")) == "attachment";
    // A blank text/plain (an empty alternative left by a broken mailer) must not hide the
    // HTML part that holds the words.
    bool blank = h.body.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (ct.type == "text" && !attachment && !blank &&
        (ct.subtype == "plain" || ct.subtype == "html")) {
      std::optional<TextPart>& slot = ct.subtype == "plain" ? plain_ : html_;
      if (!slot) {
        std::string charset = ct.Param("charset");
        slot = TextPart{h.body, charset.empty() ? "us-ascii" : charset,
                        std::string(h.Get("content-transfer-encoding")), ct.subtype == "html"};
      }
    } else if (ct.type == "message" && (ct.subtype == "rfc822" || ct.subtype == "global") &&
               !embedded_) {
      embedded_ = {h.body, depth + 1};
    }
  }

  void Defect(std::string d) {
    if (msg_->defects.size() < kMaxDefects) msg_->defects.push_back(std::move(d));
  }

  const std::optional<TextPart>& plain() const { return plain_; }
  const std::optional<TextPart>& html() const { return html_; }
  // The first message/rfc822 part and its depth, read for text only when nothing else is.
  const std::optional<std::pair<std::string_view, int>>& embedded() const { return embedded_; }

 private:
  void Multipart(const HeaderBlock& h, const ContentType& ct, int depth) {
    if (ct.subtype == "report" && msg_->report_type.empty())
      msg_->report_type = Lower(ct.Param("report-type"));
    std::string boundary = ct.Param("boundary");
    if (boundary.empty() || boundary.size() > kMaxBoundary ||
        boundary.find_first_of("\r\n") != std::string::npos) {
      Defect("multipart without usable boundary");
      msg_->part_types.push_back(ct.Full());
      return;
    }
    if (depth >= limits_.max_depth) {  // mimetic had no such limit: 20,000 levels crashed it
      Defect("multipart nesting deeper than max_depth not descended");
      msg_->part_types.push_back(ct.Full());
      return;
    }
    MultipartBody split = SplitMultipart(h.body, boundary, static_cast<size_t>(limits_.max_parts));
    if (!split.closed) Defect("multipart " + ct.Full() + " without close delimiter");
    if (split.truncated) Defect("more than max_parts parts; rest ignored");
    ContentType child_default;  // RFC 2046 §5.1.5: digest parts default to message/rfc822
    if (ct.subtype == "digest") child_default = ParseContentType("message/rfc822");
    child_default.present = false;
    for (std::string_view part : split.parts) {
      HeaderBlock child = SplitHeaderBlock(part, limits_.max_header_line);
      for (std::string& d : child.defects) Defect("part: " + d);
      std::string_view ct_value = child.Get("content-type");
      ContentType child_ct = ct_value.empty() ? child_default : ParseContentType(ct_value);
      Visit(child, child_ct, depth + 1);
    }
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
  }

  const ParseLimits& limits_;
  Message* msg_;
  long entities_ = 0;
  int leaves_ = 0;
  std::optional<TextPart> plain_, html_;
  std::optional<std::pair<std::string_view, int>> embedded_;
};

// RFC 5322 §3.6.4 msg-id list: every "<...>" in order, without the brackets. Mail that
// omits the brackets gets its whitespace-separated words instead.
std::vector<std::string> MessageIds(std::string_view v) {
  std::vector<std::string> ids;
  for (size_t lt = v.find('<'); lt != std::string_view::npos; lt = v.find('<', lt + 1)) {
    size_t gt = v.find('>', lt);
    if (gt == std::string_view::npos) break;
    std::string id;
    for (char c : v.substr(lt + 1, gt - lt - 1)) {
      if (c != ' ' && c != '\t') id.push_back(c);
    }
    if (!id.empty()) ids.push_back(std::move(id));
    lt = gt;
  }
  if (!ids.empty() || v.find('<') != std::string_view::npos) return ids;
  for (size_t i = 0; i < v.size();) {
    size_t end = v.find_first_of(" \t", i);
    if (end == std::string_view::npos) end = v.size();
    if (end > i) ids.emplace_back(v.substr(i, end - i));
    i = end + 1;
  }
  return ids;
}

std::string FirstId(std::string_view v) {
  std::vector<std::string> ids = MessageIds(v);
  return ids.empty() ? "" : std::move(ids.front());
}

// Return-Path (RFC 5321 §4.4): "<a@b>", or "<>" for the null reverse-path.
std::string ReturnPath(std::string_view v) {
  size_t lt = v.find('<');
  if (lt == std::string_view::npos) return ParseAddress(v).addr;
  size_t gt = v.find('>', lt);
  std::string_view inner = v.substr(lt + 1, gt == v.npos ? v.npos : gt - lt - 1);
  return inner.find_first_not_of(" \t") == std::string_view::npos ? "" : ParseAddress(v).addr;
}

// CRLF and lone CR become LF, so classification sees one line-break convention. Moves
// whole lines (decoded QP and HTML text often has no CR at all: then nothing is written).
std::string NormalizeNewlines(std::string s) {
  size_t r = s.find('\r');
  if (r == std::string::npos) return s;
  size_t w = r;
  while (r < s.size()) {  // s[r] is a CR
    if (r + 1 < s.size() && s[r + 1] == '\n') {
      ++r;  // the LF is moved with the line after it
    } else {
      s[w++] = '\n';
      ++r;
    }
    size_t next = std::min(s.find('\r', r), s.size());
    std::memmove(s.data() + w, s.data() + r, next - r);
    w += next - r;
    r = next;
  }
  s.resize(w);
  return s;
}

// Cuts valid UTF-8 to at most `max` bytes without splitting a character.
void CutUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

std::string DecodeText(const TextPart& part, const ParseLimits& limits, Walker* walker) {
  std::string_view body = part.body;
  size_t read_max = limits.max_text_bytes * kEncodedTextFactor;
  if (body.size() > read_max) {
    body = body.substr(0, read_max);
    walker->Defect("text part longer than the limit; cut");
  }
  // 7bit/8bit text is read from the message buffer directly, decoded text is not copied
  // again: on mostly-ASCII mail these copies were a large part of ParseMessage.
  std::string text = IsIdentityTransfer(part.encoding)
                         ? ToUtf8(body, part.charset)
                         : ToUtf8Owned(DecodeTransfer(part.encoding, body), part.charset);
  if (part.html) text = HtmlToText(text);
  text = NormalizeNewlines(std::move(text));
  CutUtf8(&text, limits.max_text_bytes);
  return text;
}

void ReadEnvelope(const HeaderBlock& h, Message* m) {
  m->from = ParseAddress(h.Get("from"));
  m->reply_to = ParseAddressList(h.Get("reply-to"));
  for (const HeaderField& f : h.fields) {
    if (f.name != "return-path") continue;
    m->has_return_path = true;
    m->return_path = ReturnPath(f.value);
    break;
  }
  m->message_id = FirstId(h.Get("message-id"));
  m->in_reply_to = FirstId(h.Get("in-reply-to"));
  m->references = MessageIds(h.Get("references"));
  m->date = std::string(h.Get("date"));
  m->subject = DecodeEncodedWords(h.Get("subject"));
}

// Parses one message; `depth` counts enclosing entities so that message/rfc822 inside
// message/rfc822 is bounded by the same max_depth as multipart nesting.
Message ParseAt(std::string_view raw, const ParseLimits& limits, int depth) {
  Message m;
  HeaderBlock top = SplitHeaderBlock(raw, limits.max_header_line);
  m.defects = std::move(top.defects);
  if (m.defects.size() > kMaxDefects) m.defects.resize(kMaxDefects);
  ReadEnvelope(top, &m);
  std::string_view ct_value = top.Get("content-type");
  ContentType ct = ParseContentType(ct_value);  // RFC 2045 §5.2: default text/plain us-ascii
  if (!ct_value.empty() && !ct.present) m.defects.push_back("unusable Content-Type; text/plain");
  m.content_type = ct.Full();
  Walker walker(limits, &m);
  walker.Visit(top, ct, depth);
  if (walker.plain()) {
    m.body_text = DecodeText(*walker.plain(), limits, &walker);
  } else if (walker.html()) {
    m.body_text = DecodeText(*walker.html(), limits, &walker);
  } else if (walker.embedded() && walker.embedded()->second < limits.max_depth) {
    m.body_text = ParseAt(walker.embedded()->first, limits, walker.embedded()->second).body_text;
  }
  m.headers = std::move(top.fields);
  return m;
}

}  // namespace

std::string Message::Header(std::string_view lower_name) const {
  for (const HeaderField& f : headers) {
    if (f.name == lower_name) return f.value;
  }
  return "";
}

bool Message::HasHeader(std::string_view lower_name) const {
  for (const HeaderField& f : headers) {
    if (f.name == lower_name) return true;
  }
  return false;
}

Result<Message> ParseMessage(std::string_view raw, const ParseLimits& limits) {
  if (raw.size() > limits.max_message_bytes) {
    return Status::Permanent("message of " + std::to_string(raw.size()) +
                             " bytes exceeds the limit of " +
                             std::to_string(limits.max_message_bytes));
  }
  return ParseAt(raw, limits, 0);
}

}  // namespace mailreqd
