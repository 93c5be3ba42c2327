// libcurl's own words for what went wrong (CURLOPT_ERRORBUFFER): "SSL certificate
// problem: certificate has expired", where curl_easy_strerror only has the code's
// "SSL peer certificate or SSH remote key was not OK". An operator fixing a TLS set-up
// needs the first.
#pragma once

#include <curl/curl.h>

#include <string>

namespace mailreqd {

// Lives as long as the handle it is attached to (libcurl keeps its address).
class CurlErrorText {
 public:
  // Attaches to `h` and forgets any earlier text: call before each transfer.
  void AttachTo(CURL* h) {
    text_[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, text_);
  }
  // The detail libcurl wrote for `rc`, or the code's generic text when it wrote none.
  std::string Describe(CURLcode rc) const { return text_[0] ? text_ : curl_easy_strerror(rc); }

 private:
  char text_[CURL_ERROR_SIZE] = {};
};

}  // namespace mailreqd
