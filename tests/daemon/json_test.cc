#include "daemon/json.h"

#include <catch2/catch.hpp>
#include <string>

using mailreqd::JsonObject;
using mailreqd::JsonString;

TEST_CASE("JsonString escapes quotes, backslashes and control bytes, and only those",
          "[json]") {
  CHECK(JsonString("") == "\"\"");
  CHECK(JsonString("plain text") == "\"plain text\"");
  CHECK(JsonString("\"") == "\"\\\"\"");
  CHECK(JsonString("a\"b\\c\nd\re\tf") == "\"a\\\"b\\\\c\\nd\\re\\tf\"");
  CHECK(JsonString(std::string("nul\0end", 7)) == "\"nul\\u0000end\"");
  CHECK(JsonString("\x01\x1f") == "\"\\u0001\\u001f\"");
  CHECK(JsonString("退訂 \x7f") == "\"退訂 \x7f\"");  // UTF-8 and DEL pass as they are
}

TEST_CASE("JsonObject writes its fields in order", "[json]") {
  CHECK(JsonObject().Add("a", "x\"y").Add("n", int64_t{3}).str() == "{\"a\":\"x\\\"y\",\"n\":3}");
}
