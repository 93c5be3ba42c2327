// YamlReader: typed reads from yaml-cpp nodes that collect every error as
// "file:line:column: key: reason" instead of throwing at the first one, so an operator
// fixes a config in one pass. It knows yaml-cpp 0.7's traps (see NOTES-libraries.md §4):
// an empty value reads as "null", and Node assignment aliases.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace mailreqd {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  // Flags every key of map `n` not in `allowed` (typos must not pass silently), and
  // repeated keys. False when `n` is not a mapping at all: the caller must not read
  // keys from it.
  bool Keys(const YAML::Node& n, const std::string& where, std::initializer_list<const char*> allowed);
  bool Required(const YAML::Node& parent, const char* key, const std::string& name);
  std::string String(const YAML::Node& parent, const std::string& name, const char* key,
                     bool required, const std::string& dflt = "");
  std::vector<std::string> StringList(const YAML::Node& parent, const std::string& name,
                                      const char* key);
  bool Bool(const YAML::Node& parent, const std::string& name, const char* key, bool dflt);
  int Int(const YAML::Node& parent, const std::string& name, const char* key, int dflt, int lo,
          int hi);
  // "30s", "5m", "2h", "7d" or a bare number of seconds.
  int Duration(const YAML::Node& parent, const std::string& name, const char* key, int dflt);
  // Required URL whose scheme is one of `schemes`.
  std::string Url(const YAML::Node& parent, const std::string& name, const char* key,
                  std::initializer_list<const char*> schemes);

  void Error(const YAML::Node& at, const std::string& key, const std::string& reason);
  const std::vector<std::string>& errors() const { return errors_; }
  std::string Joined() const;

 private:
  // The key node of `key` in map `parent` (undefined if absent): an empty value's own
  // mark points past the line, so errors about it point at its key.
  static YAML::Node KeyNode(const YAML::Node& parent, const char* key);

  std::string file_;
  std::vector<std::string> errors_;
  YAML::Mark last_mark_;
};

// Parses "30s"/"5m"/"2h"/"7d"/"45" into seconds; -1 when malformed.
int ParseDurationSeconds(const std::string& s);

}  // namespace mailreqd
