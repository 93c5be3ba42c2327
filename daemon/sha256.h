// SHA-256 as lowercase hex, for request keys ("sha256:<hex of raw bytes>") and for
// storing confirmation tokens by hash. Backed by OpenSSL's EVP interface.
#pragma once

#include <string>
#include <string_view>

namespace mailreqd {

// 64 lowercase hex digits. Never fails: EVP_sha256 is always available in libcrypto,
// and a failure there means a broken process, which aborts.
std::string Sha256Hex(std::string_view bytes);

}  // namespace mailreqd
