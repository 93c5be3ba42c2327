#include "parsers/html_text.h"

#include <catch2/catch.hpp>
#include <string>

namespace mailreqd {
namespace {

TEST_CASE("HtmlToText drops tags and decodes entities", "[html_text]") {
  CHECK(HtmlToText("<b>Hello</b> <i>world</i>") == "Hello world");
  CHECK(HtmlToText("Fish &amp; chips &lt;3 &quot;x&quot; &#39;y&#39;") == "Fish & chips <3 \"x\" 'y'");
  CHECK(HtmlToText("&#20013;&#x6587; &eacute;&nbsp;&euro;") == "中文 é €");
  CHECK(HtmlToText("&#150; &#x92;") == "– ’");  // windows-1252 range, as browsers read it
  CHECK(HtmlToText("&unknown; & alone; a < b") == "&unknown; & alone; a < b");
  CHECK(HtmlToText("&#0; &#xD800;") == "\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST_CASE("HtmlToText drops script, style, head and comments", "[html_text]") {
  CHECK(HtmlToText("<html><head><title>T</title><style>p{color:red}</style></head>"
                   "<body>Text<script type=x>alert(1)</script><!-- note --> end</body>") ==
        "Text end");
  CHECK(HtmlToText("<head><meta charset=utf-8>Body without closing head") ==
        "Body without closing head");
  CHECK(HtmlToText("<SCRIPT>x</SCRIPT>ok") == "ok");
}

TEST_CASE("HtmlToText turns block elements into line breaks", "[html_text]") {
  CHECK(HtmlToText("<p>one</p><p>two</p>") == "one\ntwo");
  CHECK(HtmlToText("a<br>b<br/><br />c") == "a\nb\n\nc");
  CHECK(HtmlToText("<div>x</div><ul><li>1</li><li>2</li></ul><h1>T</h1>") == "x\n1\n2\nT");
  CHECK(HtmlToText("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") ==
        "a b\nc");
}

TEST_CASE("HtmlToText collapses whitespace", "[html_text]") {
  CHECK(HtmlToText("  lots \n\t of   space  ") == "lots of space");
  CHECK(HtmlToText("<p>  a  </p>\n\n<p>  b </p>") == "a\nb");
}

TEST_CASE("HtmlToText marks blockquote lines with \"> \"", "[html_text]") {
  CHECK(HtmlToText("Please cancel.<blockquote>On Monday you wrote:<br>Hello</blockquote>Thanks") ==
        "Please cancel.\n> On Monday you wrote:\n> Hello\nThanks");
  CHECK(HtmlToText("<blockquote>a<blockquote>b</blockquote>c</blockquote>") == "> a\n> > b\n> c");
  CHECK(HtmlToText("</blockquote></blockquote>x") == "x");
}

TEST_CASE("HtmlToText survives broken markup", "[html_text]") {
  CHECK(HtmlToText("<b unterminated") == "");
  CHECK(HtmlToText("text <!-- unterminated comment") == "text");
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "<script>";
  CHECK(HtmlToText(many + "x") == "x");
}

}  // namespace
}  // namespace mailreqd
