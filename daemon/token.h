// Confirmation tokens: single-use secrets mailed to an account's registered address.
// The secret (130 random bits from the OS, as 26 base32 characters: see FindToken in
// parsers/classify.h) travels only by mail; the database keeps its SHA-256.
// The action a token confirms is kept with it as a small text payload.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "parsers/classify.h"

namespace mailreqd {

// A new secret from getrandom(); throws std::runtime_error only if the OS has no entropy
// source at all (the daemon cannot work safely without one).
std::string NewTokenSecret();
std::string TokenHash(const std::string& secret);  // hex SHA-256

// Purposes.
inline constexpr const char* kPurposeConfirm = "confirm";        // carry out a request
inline constexpr const char* kPurposeKeep = "keep";              // reverse a cancellation
inline constexpr const char* kPurposeEmailChange = "email_change";

// What a confirmed request does: the original request, as of its original arrival.
struct PendingAction {
  RequestKind kind = RequestKind::kUnknown;
  std::optional<std::string> service;
  int64_t arrived = 0;
  Language language = Language::kEnglish;
  int64_t subscription_id = 0;                 // keep
  std::string new_email;                       // email_change
  std::map<std::string, std::string> fields;   // correction
};

std::string EncodeAction(const PendingAction& a);
std::optional<PendingAction> DecodeAction(const std::string& payload);

}  // namespace mailreqd
