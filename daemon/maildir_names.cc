#include "daemon/maildir_names.h"

#include <cctype>
#include <utility>

namespace mailreqd {
namespace {

constexpr std::string_view kScheme = "maildir:";
constexpr std::string_view kUidField = ",U=";

// The unique part of a message file name: what comes before the ':' of ":2,<flags>".
std::string_view UniquePart(std::string_view name) { return name.substr(0, name.find(':')); }

// Where the ",U=<digits>" field starts in `unique` and how long it is; npos when absent.
std::pair<size_t, size_t> UidField(std::string_view unique) {
  for (size_t at = unique.find(kUidField); at != std::string_view::npos;
       at = unique.find(kUidField, at + 1)) {
    size_t end = at + kUidField.size();
    while (end < unique.size() && std::isdigit(static_cast<unsigned char>(unique[end]))) ++end;
    bool digits = end > at + kUidField.size();
    if (digits && (end == unique.size() || unique[end] == ',')) return {at, end - at};
  }
  return {std::string_view::npos, 0};
}

}  // namespace

bool IsMaildirUrl(const std::string& url) { return url.rfind(kScheme, 0) == 0; }

std::string MaildirPathOfUrl(const std::string& url) {
  if (!IsMaildirUrl(url)) return "";
  std::string path = url.substr(kScheme.size());
  // RFC 8089 file: URLs spell a local path "///path" (empty authority) or "/path".
  if (path.rfind("//", 0) == 0) {
    if (path.rfind("///", 0) != 0) return "";  // a host: not ours to read
    path.erase(0, 2);
  }
  if (path.empty() || path[0] != '/') return "";
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

uint32_t UidOfMaildirName(std::string_view name) {
  std::string_view unique = UniquePart(name);
  auto [at, len] = UidField(unique);
  if (at == std::string_view::npos) return 0;
  uint64_t uid = 0;
  for (char c : unique.substr(at + kUidField.size(), len - kUidField.size())) {
    uid = uid * 10 + static_cast<uint64_t>(c - '0');
    if (uid > UINT32_MAX) return 0;  // not one we wrote
  }
  return static_cast<uint32_t>(uid);
}

std::string MaildirNameWithUid(std::string_view name, uint32_t uid) {
  std::string unique(UniquePart(name));
  auto [at, len] = UidField(unique);
  if (at != std::string::npos) unique.erase(at, len);
  std::string_view info = name.substr(UniquePart(name).size());
  return unique + std::string(kUidField) + std::to_string(uid) +
         (info.empty() ? std::string(":2,") : std::string(info));
}

std::string MaildirCurName(std::string_view name) {
  std::string out(name);
  if (out.find(':') == std::string::npos) out += ":2,";
  return out;
}

std::string MaildirFolderDir(const std::string& folder) {
  if (folder.empty() || folder.front() == '.' || folder.front() == '/' || folder.back() == '.' ||
      folder.back() == '/' || folder.find('\0') != std::string::npos) {
    return "";
  }
  // Maildir++ nests folders with '.': "A/B" is ".A.B". Once mapped, ".." would climb out
  // of the root or make an empty level ("A//B", "A/.B").
  std::string dir = "." + folder;
  for (char& c : dir) c = c == '/' ? '.' : c;
  if (dir.find("..") != std::string::npos) return "";
  return dir;
}

}  // namespace mailreqd
