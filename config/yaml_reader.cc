#include "config/yaml_reader.h"

#include <climits>
#include <set>

namespace mailreqd {

int ParseDurationSeconds(const std::string& s) {
  if (s.empty()) return -1;
  size_t i = 0;
  long long v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    v = v * 10 + (s[i++] - '0');
    if (v > INT_MAX) return -1;
  }
  if (i == 0) return -1;
  std::string unit = s.substr(i);
  long long mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600
                   : unit == "d" ? 86400 : -1;
  if (mult < 0 || v * mult > INT_MAX) return -1;
  return static_cast<int>(v * mult);
}

void YamlReader::Error(const YAML::Node& at, const std::string& key, const std::string& reason) {
  YAML::Mark m = at.IsDefined() ? at.Mark() : last_mark_;
  errors_.push_back(file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                    ": " + (key.empty() ? "" : key + ": ") + reason);
}

std::string YamlReader::Joined() const {
  std::string out;
  for (const auto& e : errors_) out += (out.empty() ? "" : "\n") + e;
  return out;
}

bool YamlReader::Keys(const YAML::Node& n, const std::string& where,
                      std::initializer_list<const char*> allowed) {
  if (!n.IsMap()) {
    Error(n, where, "must be a mapping");
    return false;
  }
  last_mark_ = n.Mark();
  std::set<std::string> seen;
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    std::string name = where.empty() ? k : where + "." + k;
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    if (!known) Error(kv.first, name, "unknown key");
    // yaml-cpp keeps the first of two equal keys: a line appended to fix a setting
    // would be silently ignored.
    if (!seen.insert(k).second) Error(kv.first, name, "duplicate key; the first one would be used");
  }
  return true;
}

YAML::Node YamlReader::KeyNode(const YAML::Node& parent, const char* key) {
  for (const auto& kv : parent) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool YamlReader::Required(const YAML::Node& parent, const char* key, const std::string& name) {
  if (parent[key]) return true;
  Error(parent, name, "missing required key");
  return false;
}

std::string YamlReader::String(const YAML::Node& parent, const std::string& name, const char* key,
                               bool required, const std::string& dflt) {
  if (!parent.IsMap()) return dflt;
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) {
    if (required) Error(n ? KeyNode(parent, key) : parent, name, "missing required value");
    return dflt;
  }
  if (!n.IsScalar()) {
    Error(n, name, "must be a string");
    return dflt;
  }
  return n.Scalar();
}

std::vector<std::string> YamlReader::StringList(const YAML::Node& parent, const std::string& name,
                                                const char* key) {
  std::vector<std::string> out;
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) {
    Error(n, name, "must be a list of strings");
    return out;
  }
  for (const auto& item : n) {
    if (item.IsScalar()) {
      out.push_back(item.Scalar());
    } else {
      Error(item, name, "must be a list of strings");
    }
  }
  return out;
}

bool YamlReader::Bool(const YAML::Node& parent, const std::string& name, const char* key,
                      bool dflt) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return dflt;
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    Error(n, name, "must be true or false");
    return dflt;
  }
}

int YamlReader::Int(const YAML::Node& parent, const std::string& name, const char* key, int dflt,
                    int lo, int hi) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return dflt;
  try {
    int v = n.as<int>();
    if (v >= lo && v <= hi) return v;
  } catch (const YAML::Exception&) {
  }
  Error(n, name, "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  return dflt;
}

int YamlReader::Duration(const YAML::Node& parent, const std::string& name, const char* key,
                         int dflt) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return dflt;
  int v = n.IsScalar() ? ParseDurationSeconds(n.Scalar()) : -1;
  if (v < 0) {
    Error(n, name, "must be a duration like 30s, 5m, 2h or 7d");
    return dflt;
  }
  return v;
}

std::string YamlReader::Url(const YAML::Node& parent, const std::string& name, const char* key,
                            std::initializer_list<const char*> schemes) {
  std::string url = String(parent, name, key, true);
  if (url.empty()) return url;
  auto colon = url.find("://");
  std::string scheme = colon == std::string::npos ? "" : url.substr(0, colon);
  bool ok = false;
  for (const char* s : schemes) ok = ok || scheme == s;
  if (!ok || url.size() <= colon + 3) {
    std::string list;
    for (const char* s : schemes) list += (list.empty() ? "" : ", ") + std::string(s) + "://";
    Error(parent[key], name, "must be a URL starting with " + list);
  }
  return url;
}

}  // namespace mailreqd
