// Durable file operations: what rename(2) and write(2) leave in the page cache is lost
// on a power cut until the file and the directory holding its name are fsync'ed.
#pragma once

#include <string>

#include "daemon/status.h"

namespace mailreqd {

// The text of errno value `err` ("No such file or directory"), thread-safe.
std::string ErrnoText(int err);

// fsync(2) of a directory, so that the renames and creations in it stay done.
// Transient on error, naming the directory.
Status SyncDirectory(const std::string& dir);

// Replaces `path` with `text` atomically and durably: writes `tmp_path` (same filesystem),
// fsyncs it, renames it over `path` and fsyncs the directory of `path`. After a crash,
// `path` holds either the old or the new text, never a mix. Transient on error.
Status ReplaceFileDurably(const std::string& path, const std::string& tmp_path,
                          const std::string& text);

}  // namespace mailreqd
