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

Status DryRunMailbox::Move(const std::vector<uint32_t>& uids, const std::string& folder) {
  Log(LogLevel::kInfo, "dry-run-move",
      {{"messages", std::to_string(uids.size())}, {"folder", folder}});
  return Status::Ok();
}

}  // namespace mailreqd
