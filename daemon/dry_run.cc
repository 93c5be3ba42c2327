#include "daemon/dry_run.h"

#include "daemon/log.h"

namespace mailreqd {

Status DryRunStore::Commit(const Change& change) {
  LogFields f = {{"outcome", change.request.outcome}, {"detail", change.request.detail}};
  if (change.subscription_update) {
    const auto& s = *change.subscription_update;
    f.push_back({"would_set", "subscription " + std::to_string(s.id) + " " + s.status + " ends " +
                                  (s.ends_on ? IsoDate(*s.ends_on) : "-")});
  }
  for (const auto& r : change.replies) f.push_back({"would_send", r.message_id});
  Log(LogLevel::kInfo, "dry-run-change", f);
  return Status::Ok();
}

Result<std::vector<PendingMessage>> DryRunMailbox::PendingAfter(uint32_t after, size_t limit) {
  // Full pages, as the real listing gives them: a short one tells the caller it is the
  // last, so what was left out is made up from further pages.
  std::vector<PendingMessage> out;
  for (;;) {
    auto page = real_.PendingAfter(after, limit);
    if (!page.ok()) return page.status();
    for (const auto& m : *page) {
      uidvalidity_ = m.uidvalidity;
      if (!moved_.count({m.uidvalidity, m.uid})) out.push_back(m);
    }
    if (page->size() < limit || out.size() >= limit) break;
    after = page->back().uid;
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

Status DryRunMailbox::Move(const std::vector<uint32_t>& uids, const std::string& folder) {
  for (uint32_t uid : uids) moved_.insert({uidvalidity_, uid});
  Log(LogLevel::kInfo, "dry-run-move",
      {{"messages", std::to_string(uids.size())}, {"folder", folder}});
  return Status::Ok();
}

}  // namespace mailreqd
