#include "daemon/identity.h"

#include <algorithm>

namespace mailreqd {

std::string NormalizeAddress(const std::string& addr) {
  size_t b = addr.find_first_not_of(" \t<");
  size_t e = addr.find_last_not_of(" \t>");
  if (b == std::string::npos) return "";
  std::string out = addr.substr(b, e - b + 1);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t at = out.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == out.size()) return "";
  if (out.find_first_of(" \t\r\n,;<>") != std::string::npos) return "";
  return out;
}

Identity ResolveIdentity(const std::string& sender, const std::optional<std::string>& username,
                         const std::optional<Customer>& by_username,
                         const std::vector<Customer>& by_sender) {
  Identity id;
  std::string from = NormalizeAddress(sender);
  if (username) {
    if (!by_username) return id;  // names no account we know
    id.account = by_username;
    bool same = !from.empty() && from == NormalizeAddress(by_username->email);
    id.verification = same ? Verification::kVerified : Verification::kUnverified;
    return id;
  }
  if (by_sender.size() == 1 && !from.empty()) {
    id.account = by_sender.front();
    id.verification = Verification::kVerified;
  }
  return id;
}

}  // namespace mailreqd
