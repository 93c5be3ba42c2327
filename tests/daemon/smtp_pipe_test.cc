// The pipelined SMTP transactions (SmtpPipe) and the reply reader, on values: what goes
// out for which reply, and what each mail ends with.
#include "daemon/smtp_pipe.h"

#include <catch2/catch.hpp>

#include "daemon/smtp_reply.h"

namespace mailreqd {
namespace {

SmtpReply R(const std::string& line) {
  std::vector<SmtpReply> out;
  SmtpReplyReader reader;
  reader.Feed(line + "\r\n", out);
  REQUIRE(out.size() == 1);
  return out[0];
}

struct Mail {
  std::string rcpt, raw;
  Envelope envelope() const { return Envelope{&rcpt, &raw}; }
};

// Feeds replies one by one; returns what the pipe wrote in answer, all together.
std::string Answer(SmtpPipe& pipe, const std::vector<std::string>& lines,
                   std::vector<SmtpPipe::Finished>& finished, bool* go_on = nullptr) {
  std::string out;
  for (const auto& line : lines) {
    bool ok = pipe.OnReply(R(line), out, finished);
    if (go_on) *go_on = ok;
    if (!ok) break;
  }
  return out;
}

TEST_CASE("SmtpReplyReader joins pieces and keeps a multi-line reply's last line", "[smtp]") {
  SmtpReplyReader reader;
  std::vector<SmtpReply> out;
  reader.Feed("250-smtp.test\r\n250-PIPE", out);
  CHECK(out.empty());
  reader.Feed("LINING\r\n250 HELP\r\n35", out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].code == 250);
  CHECK(out[0].line == "250 HELP");
  CHECK(reader.buffered() == 2);
  reader.Feed("4 go ahead\n550\r\n", out);  // a bare LF ends a line too; "550" alone is whole
  REQUIRE(out.size() == 3);
  CHECK(out[1].code == 354);
  CHECK(out[2].code == 550);
  CHECK_FALSE(out[2].positive());
  reader.Feed("garbage\r\n", out);
  CHECK(out.back().code == 0);
}

TEST_CASE("SmtpRefusal: 5xx is permanent, 421 is the server going away, 4xx transient", "[smtp]") {
  const std::string rcpt = "Bob@Example.org";
  Status s = SmtpRefusal(R("550 5.1.1 <bob@example.org>: no such user"), rcpt);
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(s.message().find("bob@example.org") == std::string::npos);  // masked for the log
  CHECK(s.message().rfind("SMTP refused: 550 5.1.1 <", 0) == 0);
  s = SmtpRefusal(R("421 4.3.2 shutting down"), rcpt);
  CHECK(s.kind() == ErrorKind::kTransient);
  CHECK(s.message().rfind(kServerUnavailable, 0) == 0);
  s = SmtpRefusal(R("451 4.3.0 try later"), rcpt);
  CHECK(s.kind() == ErrorKind::kTransient);
  CHECK(s.message() == "SMTP: 451 4.3.0 try later");
}

TEST_CASE("AppendDotStuffed doubles leading dots and ends with CRLF.CRLF", "[smtp]") {
  std::string out;
  AppendDotStuffed(".first\r\nmid.dle\r\n.\r\n..two\r\nlast", out);
  CHECK(out == "..first\r\nmid.dle\r\n..\r\n...two\r\nlast\r\n.\r\n");
  out.clear();
  AppendDotStuffed("a\r\n", out);
  CHECK(out == "a\r\n.\r\n");
}

TEST_CASE("SmtpPipe sends a mail's content with the next mail's commands", "[smtp]") {
  SmtpPipe pipe(SmtpExtensions{/*size=*/true, /*smtputf8=*/false});
  Mail a{"a@example.org", "Subject: a\r\n\r\nA\r\n"}, b{"b@example.org", "Subject: b\r\n\r\nB\r\n"};
  std::string out;
  CHECK(pipe.CanBegin());
  REQUIRE(pipe.Begin(0, "bot@example.com", a.envelope(), out).ok());
  CHECK(out == "MAIL FROM:<bot@example.com> SIZE=17\r\nRCPT TO:<a@example.org>\r\nDATA\r\n");
  CHECK_FALSE(pipe.CanBegin());  // a's content waits for its 354

  std::vector<SmtpPipe::Finished> finished;
  out = Answer(pipe, {"250 2.1.0 OK", "250 2.1.5 OK"}, finished);
  CHECK(out.empty());
  out = Answer(pipe, {"354 go ahead"}, finished);
  CHECK(out == "Subject: a\r\n\r\nA\r\n.\r\n");
  CHECK(finished.empty());
  REQUIRE(pipe.CanBegin());
  REQUIRE(
      pipe.Begin(1, "bot@example.com", b.envelope(), out).ok());  // the same write as a's content

  out = Answer(pipe, {"250 2.0.0 queued", "250 OK", "250 OK", "354 go ahead"}, finished);
  REQUIRE(finished.size() == 1);
  CHECK(finished[0].index == 0);
  CHECK(finished[0].status.ok());
  CHECK(out == "Subject: b\r\n\r\nB\r\n.\r\n");
  finished.clear();
  Answer(pipe, {"250 2.0.0 queued"}, finished);
  REQUIRE(finished.size() == 1);
  CHECK(finished[0].index == 1);
  CHECK(pipe.Idle());
  CHECK(pipe.Unfinished().empty());
}

TEST_CASE("SmtpPipe ends a refused mail with the first refusal and resets the session", "[smtp]") {
  SmtpPipe pipe(SmtpExtensions{});
  Mail a{"a@example.org", "x\r\n"};
  std::string out;
  std::vector<SmtpPipe::Finished> finished;
  REQUIRE(pipe.Begin(7, "bot@example.com", a.envelope(), out).ok());
  CHECK(out.find("SIZE=") == std::string::npos);  // not offered, not sent

  SECTION("RCPT refused: the 550, not DATA's 554, is what the mail ends with") {
    out = Answer(pipe, {"250 OK", "550 5.1.1 no such user", "554 5.5.1 no valid recipients"},
                 finished);
    CHECK(out == "RSET\r\n");
    REQUIRE(finished.size() == 1);
    CHECK(finished[0].index == 7);
    CHECK(finished[0].status.kind() == ErrorKind::kPermanent);
    CHECK(finished[0].status.message() == "SMTP refused: 550 5.1.1 no such user");
    CHECK(pipe.CanBegin());
    bool go_on = false;
    Answer(pipe, {"250 2.0.0 reset"}, finished, &go_on);
    CHECK(go_on);
    CHECK(pipe.Idle());
  }
  SECTION("end of DATA refused for now") {
    Answer(pipe, {"250 OK", "250 OK", "354 go"}, finished);
    Answer(pipe, {"451 4.3.0 spool full"}, finished);
    REQUIRE(finished.size() == 1);
    CHECK(finished[0].status.kind() == ErrorKind::kTransient);
    CHECK(finished[0].status.message() == "SMTP: 451 4.3.0 spool full");
  }
  SECTION("421 ends the session: the mail is undecided, the server unavailable") {
    bool go_on = true;
    Answer(pipe, {"421 4.3.2 closing"}, finished, &go_on);
    CHECK_FALSE(go_on);
    CHECK(pipe.Unfinished() == std::vector<size_t>{7});
  }
  SECTION("a reply nobody asked for ends the session") {
    Answer(pipe, {"250 OK", "250 OK", "354 go"}, finished);
    Answer(pipe, {"250 OK"}, finished);
    bool go_on = true;
    Answer(pipe, {"250 OK"}, finished, &go_on);
    CHECK_FALSE(go_on);
  }
}

TEST_CASE("SmtpPipe asks for SMTPUTF8 only for a non-ASCII address the server takes", "[smtp]") {
  Mail m{"jürgen@example.de", "x\r\n"};
  std::string with, without;
  CHECK(SmtpPipe(SmtpExtensions{false, true}).Begin(0, "bot@example.com", m.envelope(), with).ok());
  CHECK(SmtpPipe(SmtpExtensions{false, false})
            .Begin(0, "bot@example.com", m.envelope(), without)
            .ok());
  CHECK(with.find("MAIL FROM:<bot@example.com> SMTPUTF8\r\n") == 0);
  CHECK(without.find("SMTPUTF8") == std::string::npos);
}

TEST_CASE("SmtpPipe refuses an address that would smuggle in a command", "[smtp]") {
  SmtpPipe pipe(SmtpExtensions{});
  Mail m{"a@example.org>\r\nRCPT TO:<victim@example.net", "x\r\n"};
  std::string out;
  Status s = pipe.Begin(0, "bot@example.com", m.envelope(), out);
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK(out.empty());
  CHECK(pipe.Idle());
  CHECK(pipe.CanBegin());
}

}  // namespace
}  // namespace mailreqd
