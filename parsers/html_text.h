// HTML to plain text, for reading a customer's words out of an HTML-only mail.
// Contract: UTF-8 in (invalid bytes pass through as they are), UTF-8 text out, never fails.
// - tags are dropped; <script>, <style>, <head> (title included) and comments with content;
// - entities decoded: named (the common set), decimal and hex (&#12354; &#x3042;);
// - br, p, div, li, tr, h1-h6, table, ul/ol, blockquote, hr end a line;
// - whitespace runs collapse to one space, blank lines to at most one;
// - every line inside <blockquote> starts with "> " (one per nesting level), so quoted
//   text can be cut like a plain-text reply.
#pragma once

#include <string>
#include <string_view>

namespace mailreqd {

std::string HtmlToText(std::string_view html);

// Decodes one entity body such as "amp", "#39", "#x4E2D" (without & and ;) to UTF-8,
// or "" when unknown.
std::string DecodeHtmlEntity(std::string_view name);

}  // namespace mailreqd
