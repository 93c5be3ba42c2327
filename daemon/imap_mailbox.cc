#include "daemon/imap_mailbox.h"

#include <algorithm>
#include <cstdint>
#include <thread>
#include <utility>

namespace mailreqd {
namespace {

// Parses "UID n", "RFC822.SIZE n", "INTERNALDATE "..."" out of a FETCH line's text.
uint64_t NumberAfter(const std::string& text, const std::string& key) {
  size_t p = text.find(key + " ");
  if (p == std::string::npos) return 0;
  return std::strtoull(text.c_str() + p + key.size() + 1, nullptr, 10);
}

std::string QuotedAfter(const std::string& text, const std::string& key) {
  size_t p = text.find(key + " \"");
  if (p == std::string::npos) return "";
  size_t start = p + key.size() + 2;
  size_t end = text.find('"', start);
  return end == std::string::npos ? "" : text.substr(start, end - start);
}

bool IsFetch(const ImapLine& line) {
  return line.text.rfind("* ", 0) == 0 && line.text.find(" FETCH (") != std::string::npos;
}

std::string FetchCommand(const std::vector<uint32_t>& uids) {
  // BODY.PEEK: reading must not set \Seen (RFC 3501 §6.4.5); state lives in SQLite.
  return "UID FETCH " + UidSet(uids) + " (UID INTERNALDATE BODY.PEEK[])";
}

}  // namespace

std::string MailboxOfUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  if (slash == std::string::npos || slash + 1 >= url.size()) return "INBOX";
  return url.substr(slash + 1);
}

ImapMailbox::ImapMailbox(ImapEndpoint endpoint, std::string inbox)
    : conn_(std::move(endpoint)), inbox_(std::move(inbox)) {}

void ImapMailbox::Close() {
  conn_.Close();
  ahead_.reset();
}

Result<ImapReply> ImapMailbox::Ok(const std::string& command,
                                   const ImapConnection::UntaggedSink& sink) {
  Status settled = Settle();
  if (!settled.ok()) return settled;
  return Checked(conn_.Command(command, sink), command);
}

Status ImapMailbox::Settle() {
  if (!ahead_) return Status::Ok();
  const std::string tag = std::move(ahead_->tag);
  ahead_.reset();
  if (!conn_.connected()) return Status::Ok();
  auto dropped = conn_.Await(tag, [this](ImapLine& line) {
    if (IsFetch(line) && !line.literals.empty()) ++bodies_fetched_;
  });
  return dropped.ok() ? Status::Ok() : dropped.status();
}

Result<ImapReply> ImapMailbox::Checked(Result<ImapReply> reply, const std::string& command) {
  if (!reply.ok()) return reply.status();
  if (reply->status != "OK") {
    std::string verb = command.substr(0, command.find(' ', 4));
    return Status::Transient("IMAP " + verb + " refused: " + reply->status + " " + reply->text);
  }
  return reply;
}

Status ImapMailbox::Ready() {
  if (conn_.connected()) return Status::Ok();
  ahead_.reset();  // its answer went with the old connection
  Status s = conn_.Connect();
  if (!s.ok()) return s;
  known_folders_.clear();
  auto sel = Ok("SELECT " + ImapQuote(inbox_));
  if (!sel.ok()) {
    // Not selected (say the folder was deleted and is not back yet): drop the session, so
    // that the next call selects again instead of running commands on no mailbox.
    Close();
    return sel.status();
  }
  for (const auto& line : sel->untagged) {
    auto v = NumberAfter(line.text, "[UIDVALIDITY");
    if (v) uidvalidity_ = static_cast<uint32_t>(v);
  }
  return Status::Ok();
}

Result<uint32_t> ImapMailbox::HighestUid() {
  uint32_t highest = 0;
  // "*" is the highest UID in use; an empty mailbox answers with no FETCH line.
  auto reply = Ok("UID FETCH * (UID)", [&](ImapLine& line) {
    if (IsFetch(line)) highest = std::max(highest, static_cast<uint32_t>(NumberAfter(line.text, "UID")));
  });
  if (!reply.ok()) return reply.status();
  return highest;
}

Result<std::vector<PendingMessage>> ImapMailbox::PendingAfter(uint32_t after, size_t limit) {
  Status s = Ready();
  if (!s.ok()) return s;
  // From here on, an EXISTS in any answer may be mail this listing does not hold:
  // WaitForMail then returns at once instead of idling over it.
  conn_.TakeExistsSeen();
  std::vector<PendingMessage> out;
  auto highest = HighestUid();
  Status listed = highest.ok() ? ListUids(after, *highest, limit, out) : highest.status();
  if (!listed.ok()) {
    Close();  // the session's state is unknown: start afresh next time
    return listed;
  }
  return out;
}

Status ImapMailbox::ListUids(uint32_t after, uint32_t highest, size_t limit,
                             std::vector<PendingMessage>& out) {
  // Sizes come in UID ranges rather than in one "1:*": memory holds one window whatever
  // the inbox holds. A sparse range widens the next one, so gaps cost few commands.
  // A NO/BAD is an error, never an empty inbox.
  constexpr uint64_t kWidestRange = 1u << 24;
  uint64_t width = std::clamp<uint64_t>(limit, 1, kWidestRange);
  const size_t trim_at = limit > SIZE_MAX / 2 ? SIZE_MAX : 2 * limit;
  out.clear();
  for (uint64_t lo = uint64_t{after} + 1; lo <= highest && out.size() < limit; lo += width) {
    const uint64_t hi = std::min<uint64_t>(lo + width - 1, highest);
    size_t found = 0;
    auto reply = Ok("UID FETCH " + std::to_string(lo) + ":" + std::to_string(hi) + " (UID RFC822.SIZE)",
                    [&](ImapLine& line) {
                      if (!IsFetch(line)) return;
                      PendingMessage m;
                      m.uid = static_cast<uint32_t>(NumberAfter(line.text, "UID"));
                      m.size = NumberAfter(line.text, "RFC822.SIZE");
                      m.uidvalidity = uidvalidity_;
                      if (m.uid <= after) return;
                      out.push_back(m);
                      ++found;
                      // Kept to the oldest `limit` as it comes: twice that at most.
                      if (out.size() >= trim_at) KeepOldest(out, after, limit);
                    });
    if (!reply.ok()) return reply.status();
    if (found < width / 2) width = std::min(width * 2, kWidestRange);
  }
  KeepOldest(out, after, limit);
  return Status::Ok();
}

Result<std::vector<RawMessage>> ImapMailbox::Fetch(const std::vector<uint32_t>& uids) {
  std::vector<RawMessage> out;
  if (uids.empty()) return out;
  Status s = Ready();
  if (!s.ok()) return s;
  const std::string command = FetchCommand(uids);
  auto reply = ahead_ && ahead_->uids == uids
                   ? Checked(conn_.Await(std::exchange(ahead_, std::nullopt)->tag), command)
                   : Ok(command);
  if (!reply.ok()) return reply.status();
  for (auto& line : reply->untagged) {
    if (!IsFetch(line) || line.literals.empty()) continue;
    ++bodies_fetched_;
    RawMessage m;
    m.uid = static_cast<uint32_t>(NumberAfter(line.text, "UID"));
    m.arrived = ParseInternalDate(QuotedAfter(line.text, "INTERNALDATE"));
    m.bytes = std::move(line.literals.front());
    if (m.uid) out.push_back(std::move(m));
  }
  return out;
}

void ImapMailbox::Prefetch(const std::vector<uint32_t>& uids) {
  if (ahead_ || uids.empty() || !conn_.connected()) return;
  auto tag = conn_.Send(FetchCommand(uids));
  if (tag.ok()) ahead_ = Ahead{uids, *tag};
}

Status ImapMailbox::EnsureFolder(const std::string& folder) {
  if (std::find(known_folders_.begin(), known_folders_.end(), folder) != known_folders_.end()) {
    return Status::Ok();
  }
  Status settled = Settle();
  if (!settled.ok()) return settled;
  auto reply = conn_.Command("CREATE " + ImapQuote(folder));
  if (!reply.ok()) return reply.status();
  // NO [ALREADYEXISTS] (RFC 5530) is the common answer and fine.
  known_folders_.push_back(folder);
  return Status::Ok();
}

Status ImapMailbox::Move(const std::vector<uint32_t>& uids, const std::string& folder) {
  if (uids.empty()) return Status::Ok();
  Status s = Ready();
  if (s.ok()) s = EnsureFolder(folder);
  if (!s.ok()) return s;
  std::string set = UidSet(uids);
  s = MoveOnce(set, folder);
  if (s.ok() || s.message().find("[TRYCREATE]") == std::string::npos) return s;
  // RFC 3501 §6.4.7: the folder is gone (another client deleted it since we created or
  // saw it): create it again and move once more, rather than fail every drain from now on.
  known_folders_.erase(std::remove(known_folders_.begin(), known_folders_.end(), folder),
                       known_folders_.end());
  s = EnsureFolder(folder);
  if (!s.ok()) return s;
  return MoveOnce(set, folder);
}

Status ImapMailbox::MoveOnce(const std::string& set, const std::string& folder) {
  if (conn_.Has("MOVE")) return Ok("UID MOVE " + set + " " + ImapQuote(folder)).status();
  // RFC 6851 §3.3's fallback: COPY, flag \Deleted, expunge only those UIDs (UIDPLUS).
  auto copy = Ok("UID COPY " + set + " " + ImapQuote(folder));
  if (!copy.ok()) return copy.status();
  auto store = Ok("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)");
  if (!store.ok()) return store.status();
  return Ok(conn_.Has("UIDPLUS") ? "UID EXPUNGE " + set : "EXPUNGE").status();
}

Result<bool> ImapMailbox::WaitForMail(int seconds, const volatile bool* stop) {
  Status s = Ready();
  if (!s.ok()) return s;
  s = Settle();  // its answer may announce new mail too
  if (!s.ok()) return s;
  // New mail announced in the answer to a FETCH or MOVE since the last listing: the
  // server will not announce it again during IDLE (RFC 2177 only reports changes).
  if (conn_.TakeExistsSeen()) return true;
  // Mail that came after this session's last command may not have been announced to it
  // yet (the moves run on another session), and whether a server flushes such news when
  // IDLE starts varies: one NOOP asks, so the last mail of a burst is not left to the
  // next poll.
  auto noop = Ok("NOOP");
  if (!noop.ok()) return noop.status();
  if (conn_.TakeExistsSeen()) return true;
  if (conn_.Has("IDLE")) return conn_.Idle(seconds, stop);
  for (int i = 0; i < seconds && !(stop && *stop); ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return true;
}

}  // namespace mailreqd
