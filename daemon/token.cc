#include "daemon/token.h"

#include <stdexcept>

#include "daemon/random_bytes.h"
#include "daemon/sha256.h"

namespace mailreqd {
namespace {

// Payload lines are "key=value"; values are escaped so that a field holding a newline
// (a postal address) cannot forge another line.
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string Unescape(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      char n = v[++i];
      out += n == 'n' ? '\n' : n == 'r' ? '\r' : n;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::optional<RequestKind> KindOf(const std::string& name) {
  for (auto k : {RequestKind::kUnsubscribe, RequestKind::kAccess, RequestKind::kCorrection,
                 RequestKind::kPolicy, RequestKind::kMarketingOptOut, RequestKind::kConfirm,
                 RequestKind::kUnknown}) {
    if (name == KindName(k)) return k;
  }
  return std::nullopt;
}

}  // namespace

std::optional<PendingAction> DecodeActionOrThrow(const std::string& payload);

std::string NewTokenSecret() {
  unsigned char bytes[17];  // 136 bits, of which the 26 base32 characters use 130
  if (!RandomBytes(bytes, sizeof bytes)) throw std::runtime_error("getrandom failed");
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";  // RFC 4648 §6
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && out.size() < kTokenLength) {
      out += kAlphabet[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

std::string TokenHash(const std::string& secret) { return Sha256Hex(secret); }

std::string EncodeAction(const PendingAction& a) {
  std::string out = "kind=" + std::string(KindName(a.kind)) + "\n";
  if (a.service) out += "service=" + Escape(*a.service) + "\n";
  out += "arrived=" + std::to_string(a.arrived) + "\n";
  out += "language=" + std::to_string(static_cast<int>(a.language)) + "\n";
  if (a.subscription_id) out += "subscription=" + std::to_string(a.subscription_id) + "\n";
  if (!a.new_email.empty()) out += "new_email=" + Escape(a.new_email) + "\n";
  for (const auto& [k, v] : a.fields) out += "field." + k + "=" + Escape(v) + "\n";
  return out;
}

std::optional<PendingAction> DecodeAction(const std::string& payload) {
  try {
    return DecodeActionOrThrow(payload);
  } catch (const std::exception&) {  // stoll on a damaged row: treat as no action
    return std::nullopt;
  }
}

std::optional<PendingAction> DecodeActionOrThrow(const std::string& payload) {
  PendingAction a;
  size_t p = 0;
  while (p < payload.size()) {
    size_t e = payload.find('\n', p);
    if (e == std::string::npos) e = payload.size();
    std::string line = payload.substr(p, e - p);
    p = e + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) return std::nullopt;
    std::string k = line.substr(0, eq), v = Unescape(line.substr(eq + 1));
    if (k == "kind") {
      auto kind = KindOf(v);
      if (!kind) return std::nullopt;
      a.kind = *kind;
    } else if (k == "service") {
      a.service = v;
    } else if (k == "arrived") {
      a.arrived = std::stoll(v);
    } else if (k == "language") {
      int l = std::stoi(v);
      if (l < 0 || l > 2) return std::nullopt;
      a.language = static_cast<Language>(l);
    } else if (k == "subscription") {
      a.subscription_id = std::stoll(v);
    } else if (k == "new_email") {
      a.new_email = v;
    } else if (k.rfind("field.", 0) == 0) {
      a.fields[k.substr(6)] = v;
    }
  }
  return a;
}

}  // namespace mailreqd
