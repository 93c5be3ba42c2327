#include "parsers/message.h"
#include "parsers/mime_adapter.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "parsers/charset.h"

namespace mailreqd {
namespace {

Message Parse(const std::string& raw) {
  Result<Message> r = ParseMessage(raw);
  REQUIRE(r.ok());
  return std::move(r.value());
}

TEST_CASE("ParseMessage reads the envelope fields", "[message]") {
  Message m = Parse(
      "Return-Path: <bounce@example.com>\r\n"
      "From: \"Doe, Jane\" <jane@example.com>\r\n"
      "Reply-To: help@example.com, Other <other@example.com>\r\n"
      "Message-ID: <abc.123@example.com>\r\n"
      "In-Reply-To: <prev@example.com>\r\n"
      "References: <first@example.com>\r\n <prev@example.com>\r\n"
      "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
      "Subject: Please\r\n cancel\r\n"
      "X-Custom: folded\r\n\tvalue\r\n"
      "\r\n"
      "Hello\r\n");
  CHECK(m.has_return_path);
  CHECK(m.return_path == "bounce@example.com");
  CHECK(m.from.name == "Doe, Jane");
  CHECK(m.from.addr == "jane@example.com");
  REQUIRE(m.reply_to.size() == 2);
  CHECK(m.reply_to[1].addr == "other@example.com");
  CHECK(m.message_id == "abc.123@example.com");
  CHECK(m.in_reply_to == "prev@example.com");
  CHECK(m.references == std::vector<std::string>{"first@example.com", "prev@example.com"});
  CHECK(m.date == "Mon, 2 Mar 2026 10:00:00 +0000");
  CHECK(m.subject == "Please cancel");
  CHECK(m.Header("x-custom") == "folded\tvalue");
  CHECK(m.HasHeader("date"));
  CHECK_FALSE(m.HasHeader("cc"));
  CHECK(m.headers.size() == 9);
  CHECK(m.headers[0].name == "return-path");
  CHECK(m.body_text == "Hello\n");
}

TEST_CASE("ParseMessage never invents a Message-ID and reads the null Return-Path", "[message]") {
  Message m = Parse("Return-Path: <>\nFrom: MAILER-DAEMON\nSubject: x\n\nbody");
  CHECK(m.message_id.empty());
  CHECK_FALSE(m.HasHeader("message-id"));
  CHECK(m.has_return_path);
  CHECK(m.return_path.empty());
  CHECK(m.from.addr == "MAILER-DAEMON");
  CHECK_FALSE(Parse("From: a@b\n\nx").has_return_path);
}

TEST_CASE("ParseMessage defaults a missing Content-Type to text/plain", "[message]") {
  Message m = Parse("From: a@example.com\n\nplain body\n");
  CHECK(m.content_type == "text/plain");
  CHECK(m.part_types == std::vector<std::string>{"text/plain"});
  CHECK(m.body_text == "plain body\n");
}

TEST_CASE("ParseMessage decodes a GB2312 base64 subject and body", "[message]") {
  Message m = Parse(
      "From: =?gb2312?B?zcu2qc2o1qo=?= <cn@example.cn>\n"
      "Subject: =?gb2312?B?zcu2qc2o1qo=?=\n"
      "Content-Type: text/plain; charset=gb2312\n"
      "Content-Transfer-Encoding: base64\n\n"
      "xPq6w6Osx+uw787Szcu2qaGj\n");
  CHECK(m.subject == "退订通知");
  CHECK(m.from.name == "退订通知");
  CHECK(m.body_text == "您好，请帮我退订。");
}

TEST_CASE("ParseMessage decodes a Big5 quoted-printable body", "[message]") {
  Message m = Parse(
      "From: tw@example.tw\nSubject: =?big5?Q?=B4=FA=B8=D5?=\nMIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=\"big5\"\nContent-Transfer-Encoding: quoted-printable\n\n"
      "=BD=D0=A8=FA=AE=F8=A7=DA=AA=BA=ADq=BE\\=\n\n");
  CHECK(m.subject == "測試");
  CHECK(m.body_text == "請取消我的訂閱\n");
}

TEST_CASE("ParseMessage decodes windows-1252 smart quotes", "[message]") {
  Message m = Parse(
      "From: a@example.com\nContent-Type: text/plain; charset=windows-1252\n"
      "Content-Transfer-Encoding: quoted-printable\n\n=93Cancel=94 it=92s over =96 thanks=\n!\n");
  CHECK(m.body_text == "“Cancel” it’s over – thanks!\n");
}

const char kAlternative[] =
    "From: a@example.com\nMIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
    "preamble\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>HTML &amp; text</p>\n"
    "--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
    "6KuL5ZWP5aaC5L2V5Y+W5raI6KiC6Zax77yf\n--b1--\nepilogue\n";

TEST_CASE("ParseMessage prefers text/plain in multipart/alternative", "[message]") {
  Message m = Parse(kAlternative);
  CHECK(m.content_type == "multipart/alternative");
  CHECK(m.part_types == std::vector<std::string>{"text/html", "text/plain"});
  CHECK(m.body_text == "請問如何取消訂閱？");
  CHECK(m.defects.empty());
}

TEST_CASE("ParseMessage turns HTML into text when there is no text/plain", "[message]") {
  Message m = Parse(
      "From: a@example.com\nContent-Type: multipart/alternative; boundary=b\n\n"
      "--b\nContent-Type: text/html\n\n<div>Cancel&nbsp;please</div><blockquote>old</blockquote>\n"
      "--b--\n");
  CHECK(m.body_text == "Cancel please\n> old");
}

TEST_CASE("ParseMessage passes over a blank text/plain part to the HTML", "[message]") {
  Message m = Parse("From: a@b\nContent-Type: multipart/alternative; boundary=b\n\n"
                    "--b\nContent-Type: text/plain\n\n \r\n\n--b\nContent-Type: text/html\n\n"
                    "<p>words</p>\n--b--\n");
  CHECK(m.body_text == "words");
}

TEST_CASE("ParseMessage skips attachments and reads nested multiparts", "[message]") {
  std::string big(3u << 20, 'A');
  Message m = Parse(
      "From: a@example.com\nContent-Type: multipart/mixed; boundary=outer\n\n"
      "--outer\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\n"
      "attached text\n"
      "--outer\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n" + big +
      "\n--outer\nContent-Type: multipart/alternative; boundary=\"inner\"\n\n"
      "--inner\nContent-Type: text/plain\n\nthe real text\n--inner--\n"
      "--outer--\n");
  CHECK(m.part_types ==
        std::vector<std::string>{"text/plain", "application/pdf", "text/plain"});
  CHECK(m.body_text == "the real text");
}

TEST_CASE("ParseMessage reads message/rfc822 only when there is no other text", "[message]") {
  const std::string fwd =
      "--m\nContent-Type: message/rfc822\n\nFrom: x@y\nSubject: inner\n\ninner text\n--m--\n";
  Message only = Parse("From: a@b\nContent-Type: multipart/mixed; boundary=m\n\n" + fwd);
  CHECK(only.body_text == "inner text");
  CHECK(only.part_types == std::vector<std::string>{"message/rfc822"});
  Message both = Parse("From: a@b\nContent-Type: multipart/mixed; boundary=m\n\n"
                       "--m\nContent-Type: text/plain\n\nouter text\n" + fwd);
  CHECK(both.body_text == "outer text");
}

TEST_CASE("ParseMessage records report_type of multipart/report", "[message]") {
  Message m = Parse(
      "From: MAILER-DAEMON@example.com\n"
      "Content-Type: multipart/report; report-type=Delivery-Status; boundary=r\n\n"
      "--r\nContent-Type: text/plain\n\nDelivery failed\n"
      "--r\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n"
      "--r\nContent-Type: text/rfc822-headers\n\nFrom: x@y\n--r--\n");
  CHECK(m.content_type == "multipart/report");
  CHECK(m.report_type == "delivery-status");
  CHECK(m.part_types.size() == 3);
  CHECK(m.body_text == "Delivery failed");
}

TEST_CASE("ParseMessage survives a missing close boundary", "[message]") {
  Message m = Parse("From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\ncut off");
  CHECK(m.body_text == "cut off");
  CHECK_FALSE(m.defects.empty());
}

TEST_CASE("ParseMessage reads headers with a missing colon or a leading space", "[message]") {
  Message m = Parse("From: a@b\nSubject: s\nthis line has no colon\n\nbody");
  CHECK(m.subject == "s");
  CHECK(m.body_text == "this line has no colon\n\nbody");
  CHECK_FALSE(m.defects.empty());
  Message lead = Parse(" From: x@y\nSubject: t\n\nbody");
  CHECK(lead.from.addr == "x@y");
  CHECK(lead.subject == "t");
}

TEST_CASE("ParseMessage keeps NUL bytes and invalid UTF-8 from breaking the output", "[message]") {
  const char kRaw[] = "From: a@b\nSubject: nul\0here \xFF\n\nbo\0dy \xC3(";
  std::string raw(kRaw, sizeof kRaw - 1);
  Message m = Parse(raw);
  CHECK(IsValidUtf8(m.subject));
  CHECK(IsValidUtf8(m.body_text));
  CHECK(m.body_text.find("dy") != std::string::npos);
  for (const HeaderField& f : m.headers) CHECK(IsValidUtf8(f.value));
}

TEST_CASE("ParseMessage turns CRLF and lone CR in the body into LF", "[message]") {
  CHECK(Parse("From: a@b\r\n\r\none\r\ntwo\rthree\nfour\r\r\nfive\r").body_text ==
        "one\ntwo\nthree\nfour\n\nfive\n");
  CHECK(Parse("From: a@b\n\nno breaks at all").body_text == "no breaks at all");
  Message qp = Parse(
      "From: a@b\nContent-Transfer-Encoding: quoted-printable\n\n"
      "Gr=C3=BC=C3=9Fe and a long line that is=\r\n continued\r\nend\r\n");
  CHECK(qp.body_text == "Grüße and a long line that is continued\nend\n");
}

TEST_CASE("ParseMessage unfolds header values that hold CR, LF and CRLF", "[message]") {
  Message m = Parse("Subject: a\r\n b\n\tc\rd\r\nX-Long: one\r\n two\r\n three\r\n\r\nbody");
  CHECK(m.Header("subject") == "a b\tcd");
  CHECK(m.Header("x-long") == "one two three");
  ParseLimits limits;
  limits.max_header_line = 5;
  Result<Message> cut = ParseMessage("Subject: ab\r\n cdefgh\r\n\r\nbody", limits);
  REQUIRE(cut.ok());
  CHECK(cut->Header("subject") == "ab cd");
}

TEST_CASE("ParseMessage rejects messages over max_message_bytes", "[message]") {
  ParseLimits limits;
  limits.max_message_bytes = 100;
  Result<Message> r = ParseMessage(std::string(101, 'x'), limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == ErrorKind::kPermanent);
  CHECK(ParseMessage("", limits).ok());
}

TEST_CASE("ParseMessage cuts body text at max_text_bytes without splitting UTF-8", "[message]") {
  ParseLimits limits;
  limits.max_text_bytes = 10;
  Result<Message> r = ParseMessage("From: a@b\nContent-Type: text/plain; charset=utf-8\n\n中中中中", limits);
  REQUIRE(r.ok());
  CHECK(r->body_text == "中中中");
}

TEST_CASE("ParseMessage reads multipart/digest parts as messages", "[message]") {
  Message m = Parse("From: a@b\nContent-Type: multipart/digest; boundary=d\n\n"
                    "--d\n\nFrom: x@y\n\ndigest text\n--d--\n");
  CHECK(m.part_types == std::vector<std::string>{"message/rfc822"});
  CHECK(m.body_text == "digest text");
}


// --- The limits that keep hostile mail from crashing, hanging or bloating the parser ---

double SecondsToParse(const std::string& raw, Message* out) {
  auto t0 = std::chrono::steady_clock::now();
  Result<Message> r = ParseMessage(raw);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(r.ok());
  *out = std::move(r.value());
  return secs;
}

bool HasDefect(const Message& m, std::string_view needle) {
  for (const std::string& d : m.defects) {
    if (d.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_CASE("ParseMessage stops descending 20,000 nested multiparts at max_depth", "[message][limits]") {
  std::string raw = "From: a@b\n";
  const int kLevels = 20000;
  for (int i = 0; i < kLevels; ++i)
    raw += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" +
           std::to_string(i) + "\n";
  raw += "Content-Type: text/plain\n\ndeep\n";
  for (int i = kLevels - 1; i >= 0; --i) raw += "--b" + std::to_string(i) + "--\n";
  Message m;
  CHECK(SecondsToParse(raw, &m) < 2.0);
  CHECK(HasDefect(m, "max_depth"));
  CHECK(m.part_types.size() == 1);
  CHECK(m.body_text.empty());
}

TEST_CASE("ParseMessage bounds 20,000 nested message/rfc822 parts", "[message][limits]") {
  std::string raw;
  for (int i = 0; i < 20000; ++i) raw += "From: a@b\nContent-Type: message/rfc822\n\n";
  raw += "From: a@b\n\ninnermost";
  Message m;
  CHECK(SecondsToParse(raw, &m) < 2.0);
  CHECK(m.body_text.empty());
}

TEST_CASE("ParseMessage cuts 1 MB and 10 MB header lines quickly", "[message][limits]") {
  for (size_t size : {size_t{1} << 20, size_t{10} << 20}) {
    Message m;
    std::string raw = "From: a@b\nSubject: " + std::string(size, 'x') + "\nX-After: yes\n\nbody";
    CHECK(SecondsToParse(raw, &m) < 1.0);
    CHECK(m.subject.size() == ParseLimits().max_header_line);
    CHECK(m.Header("x-after") == "yes");
    CHECK(m.body_text == "body");
    CHECK(HasDefect(m, "cut"));
  }
}

TEST_CASE("ParseMessage handles a 10 MB folded header and word fragments quickly", "[message][limits]") {
  std::string folded = "From: a@b\nSubject: x";
  while (folded.size() < (10u << 20)) folded += "\n =?utf-8?Q?=E4=B8=AD?= =?";
  Message m;
  CHECK(SecondsToParse(folded + "\n\nbody", &m) < 1.0);
  CHECK(IsValidUtf8(m.subject));
  std::string part_header = "From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\nX-Long: " +
                            std::string(10u << 20, 'y') + "\n\nnested body\n--b--\n";
  CHECK(SecondsToParse(part_header, &m) < 1.0);
  CHECK(m.body_text == "nested body");
}

TEST_CASE("ParseMessage looks at no more than max_parts of 10,000 parts", "[message][limits]") {
  std::string raw = "From: a@b\nContent-Type: multipart/mixed; boundary=p\n\n";
  for (int i = 0; i < 10000; ++i) raw += "--p\nContent-Type: application/x-part\n\nx\n";
  raw += "--p\nContent-Type: text/plain\n\nlast\n--p--\n";
  Message m;
  CHECK(SecondsToParse(raw, &m) < 1.0);
  CHECK(m.part_types.size() == static_cast<size_t>(ParseLimits().max_parts));
  CHECK(HasDefect(m, "max_parts"));
  CHECK(m.body_text.empty());
  CHECK(m.defects.size() <= 64);
}

TEST_CASE("ParseMessage reads past a 20 MB attachment without decoding it", "[message][limits]") {
  std::string raw = "From: a@b\nContent-Type: multipart/mixed; boundary=z\n\n"
                    "--z\nContent-Type: application/zip\nContent-Transfer-Encoding: base64\n\n";
  for (int i = 0; i < (20 << 20) / 77; ++i) raw += std::string(76, 'Q') + "\n";
  raw += "--z\nContent-Type: text/plain\n\nafter the zip\n--z--\n";
  Message m;
  CHECK(SecondsToParse(raw, &m) < 1.0);
  CHECK(m.body_text == "after the zip");
}

TEST_CASE("ParseMessage survives a boundary that is a prefix of the nested one", "[message][limits]") {
  Message m = Parse("From: a@b\nContent-Type: multipart/mixed; boundary=ab\n\n"
                    "--ab\nContent-Type: multipart/alternative; boundary=ab_1\n\n"
                    "--ab_1\nContent-Type: text/plain\n\ninner\n--ab_1--\n--ab--\n");
  CHECK(m.body_text == "inner");
}

TEST_CASE("ParseMessage skips an mbox From line and survives empty input", "[message]") {
  Message m = Parse("From sender@example.com Mon Mar  2 10:00:00 2026\nFrom: a@b\nSubject: s\n\nx");
  CHECK(m.from.addr == "a@b");
  CHECK(Parse("").body_text.empty());
  CHECK(Parse("\n\n").content_type == "text/plain");
  CHECK(Parse("no headers at all").body_text == "no headers at all");
}

}  // namespace
}  // namespace mailreqd

namespace mailreqd {
namespace {

// Found by the fuzzer: a Content-Type ending in an open comment with a trailing
// backslash made the CFWS skipper step past the end, and substr threw.
TEST_CASE("ParseMessage survives a Content-Type ending in an escape inside a comment",
          "[message][fuzz]") {
  std::string raw =
      "Content-Type: multipart/mixed; boundary=\"1\"\n\n--1\n"
      "Content-Type: multipart/mixed; boundary=\"2\"\n";
  raw += std::string("\0\n--2\nContent-Typ%: text/plain\n\n1\n--2\nContent-Type: (\\", 51);
  auto parsed = ParseMessage(raw);
  CHECK(parsed.ok());
  CHECK(ParseContentType("(\\").present == false);
  CHECK(ParseContentType("text/plain; charset=x (\\").type == "text");
}

}  // namespace
}  // namespace mailreqd
