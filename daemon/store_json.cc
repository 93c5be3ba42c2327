#include "daemon/store_json.h"

#include <optional>

#include "daemon/json.h"

namespace mailreqd {
namespace {

std::optional<std::string> OptIso(const std::optional<Date>& d) {
  if (!d) return std::nullopt;
  return IsoDate(*d);
}

}  // namespace

std::string SubscriptionJson(const Subscription& s, Date today) {
  return JsonObject()
      .Add("service", s.service)
      .Add("period", PeriodName(s.period))
      .Add("anchor", IsoDate(s.anchor))
      .Add("status", EffectiveStatus(s, today))
      .Add("ends_on", OptIso(s.ends_on))
      .str();
}

std::string CustomerJson(const Customer& c, const std::vector<Subscription>& subs, Date today) {
  std::vector<std::string> items;
  items.reserve(subs.size());
  for (const Subscription& s : subs) items.push_back(SubscriptionJson(s, today));
  return JsonObject()
      .Add("username", c.username)
      .Add("email", c.email)
      .Add("name", c.name)
      .Add("postal_address", c.postal_address)
      .Add("telephone", c.telephone)
      .Add("fax", c.fax)
      .Add("marketing_opt_in", c.marketing_opt_in)
      .Raw("subscriptions", JsonArray(items))
      .str();
}

std::string RequestJson(const RequestRecord& r) {
  return JsonObject()
      .Add("id", r.id)
      .Add("key", r.key)
      .Add("message_id", r.message_id)
      .Add("arrived", r.arrived)
      .Add("sender", r.sender)
      .Add("kind", r.kind)
      .Add("username", r.username)
      .Add("outcome", r.outcome)
      .Add("detail", r.detail)
      .Add("due_on", OptIso(r.due_on))
      .Add("folder", r.folder)
      .str();
}

}  // namespace mailreqd
