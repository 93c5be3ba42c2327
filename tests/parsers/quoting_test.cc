#include "parsers/quoting.h"

#include <catch2/catch.hpp>
#include <string>

namespace mailreqd {
namespace {

struct CutCase {
  const char* what;
  std::string body;
  std::string words;
};

TEST_CASE("CustomerWords cuts quoted text, attributions, separators and signatures", "[quoting]") {
  const CutCase c = GENERATE(values<CutCase>({
      {"plain text is kept", "Please unsubscribe me.\nUsername: bob",
       "Please unsubscribe me.\nUsername: bob"},
      {"CRLF is dropped", "line one\r\nline two\r\n", "line one\nline two"},
      {"> lines are skipped anywhere", "top\n> quoted\n>> deeper\n  > indented\nbottom",
       "top\nbottom"},
      {"On ... wrote: then quotes",
       "keep this\n\nOn Mon, 1 Jan 2024 at 10:00, Shop <help@shop.example> wrote:\n> x\n",
       "keep this"},
      {"bottom posting below the quotes",
       "On Mon, 1 Jan 2024, Shop <help@shop.example> wrote:\n> unsubscribe?\n\nupdate my address\n",
       "\nupdate my address"},
      {"interleaved answers", "On Mon, Shop wrote:\n> Username?\nUsername: bob\n> Service?\nTV",
       "Username: bob\nTV"},
      {"attribution without quote marks ends the words",
       "mine\nOn Mon, 1 Jan 2024, Shop <help@shop.example> wrote:\nunmarked old text", "mine"},
      {"Gmail wraps the attribution",
       "yes\nOn Wed, Nov 19, 2014 at 12:11 AM, Levi Morrison <\nlevim@php.net> wrote:\n\n> old",
       "yes"},
      {"name wrote: followed by quotes", "ok\nJohn Smith wrote:\n> old", "ok"},
      {"as I wrote: is the customer's own", "As I wrote:\nunsubscribe please",
       "As I wrote:\nunsubscribe please"},
      {"Simplified Chinese attribution",
       "退订\n在 2024年1月1日 星期一 10:00，客服 <help@shop.example> 写道：\n旧邮件", "退订"},
      {"Traditional Chinese attribution",
       "退訂\n於 2024年1月1日 週一 上午10:00，客服 寫道：\n舊郵件", "退訂"},
      {"French attribution",
       "Désabonner\nLe lun. 1 janv. 2024, Shop <a@b.example> a écrit :\nvieux", "Désabonner"},
      {"German attribution", "Abmelden\nAm 01.01.2024 um 10:00 schrieb Shop <a@b.example>:\nalt",
       "Abmelden"},
      {"Outlook Original Message", "mine\n-----Original Message-----\nFrom: x\nunsubscribe",
       "mine"},
      {"Outlook underscores and header block",
       "mine\n________________________________\nFrom: Shop\nSent: Monday\nold", "mine"},
      {"header block alone",
       "mine\n\nFrom: Shop <help@shop.example>\nSent: Monday, 1 January 2024\nTo: me\nold", "mine"},
      {"bold header block from HTML", "mine\n*From:* Shop\n*Sent:* Monday\nold", "mine"},
      {"Chinese Outlook header block", "我的\n发件人: 客服\n发送时间: 2024年1月1日\n旧", "我的"},
      {"Traditional Outlook header block", "我的\n寄件者: 客服\n寄件日期: 2024年1月1日\n舊",
       "我的"},
      {"QQ separator", "我的\n------------------ 原始邮件 ------------------\n发件人: x", "我的"},
      {"forwarded message", "fyi\n---------- Forwarded message ---------\nold", "fyi"},
      {"Apple forwarded message", "fyi\nBegin forwarded message:\nold", "fyi"},
      {"signature with trailing space", "unsubscribe\n-- \nBob\nUsername: notme", "unsubscribe"},
      {"signature without trailing space", "unsubscribe\n--\nBob", "unsubscribe"},
      {"a From: line without a header block is kept", "From: my old address\nto my new one",
       "From: my old address\nto my new one"},
      {"full-width colon in a header block", "mine\n发件人：客服\n主题：退订\nold", "mine"},
      {"full-width quote mark", "mine\n＞ quoted\nmore", "mine\nmore"},
      {"bold attribution", "ok\n**John wrote:**\n> old", "ok"},
      {"full-width asterisk after the colon", "ok\nJohn wrote：＊\n> old", "ok"},
      {"upper-case header block", "mine\nFROM: Shop\nSENT: Monday\nold", "mine"},
      {"full-width bold header block", "mine\n＊＊From:＊＊ Shop\nSent: x\nold", "mine"},
      {"Han attribution without colon", "退订\n客服 写道\n旧邮件", "退订"},
      {"indented separator", "mine\n  ---- Original Message ----\nold", "mine"},
      {"lines of asterisks are kept", "mine\n* * *\n****\nmore", "mine\n* * *\n****\nmore"},
      {"empty body", "", ""},
  }));
  INFO(c.what);
  CHECK(CustomerWords(c.body) == c.words);
}

TEST_CASE("CustomerWords is linear on a huge unquoted body", "[quoting]") {
  std::string body;
  for (int i = 0; i < 100000; ++i) body += "a line of text that goes on\n";
  CHECK(CustomerWords(body) == body.substr(0, body.size() - 1));
}

}  // namespace
}  // namespace mailreqd
