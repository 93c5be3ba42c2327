// Status and Result<T>: errors that say what the caller does next.
//   transient  - try again later (network, SMTP 4xx, SQLITE_BUSY);
//   permanent  - this message or reply can never succeed: record it, move on;
//   fatal      - bad config or schema: exit non-zero and let systemd report it.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace mailreqd {

enum class ErrorKind { kNone, kTransient, kPermanent, kFatal };

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Transient(std::string m) { return Status(ErrorKind::kTransient, std::move(m)); }
  static Status Permanent(std::string m) { return Status(ErrorKind::kPermanent, std::move(m)); }
  static Status Fatal(std::string m) { return Status(ErrorKind::kFatal, std::move(m)); }

  bool ok() const { return kind_ == ErrorKind::kNone; }
  bool transient() const { return kind_ == ErrorKind::kTransient; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  Status(ErrorKind k, std::string m) : kind_(k), message_(std::move(m)) {}
  ErrorKind kind_ = ErrorKind::kNone;
  std::string message_;
};

// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status error) : status_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace mailreqd
