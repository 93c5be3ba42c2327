// Maildir URLs, file names and folder names: pure rules, no I/O.
//
// A message file is named "<unique>:2,<flags>" in cur/ and "<unique>" in new/
// (https://cr.yp.to/proto/maildir.html). mailreqd adds a ",U=<uid>" field to the unique
// part, so that a message's UID is carried by the file itself: it survives restarts, and
// flag changes by another client (which rewrite only what follows ":2,").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailreqd {

// True for any "maildir:" URL, valid or not.
bool IsMaildirUrl(const std::string& url);

// The Maildir root of "maildir:///srv/mail/support/Maildir" or "maildir:/srv/mail/...",
// taken literally (no %-decoding), without trailing '/'. Empty when `url` is not a
// maildir: URL, or its path is relative or names a host ("maildir://host/path"): only a
// local, absolute path is read.
std::string MaildirPathOfUrl(const std::string& url);

// The UID in the ",U=<n>" field of `name`'s unique part; 0 when there is none.
uint32_t UidOfMaildirName(std::string_view name);

// The cur/ name of a message file that carries `uid`: "1.M2.host:2,S" -> "1.M2.host,U=7:2,S".
// A name from new/ (no ":2,") gets an empty flag list; an existing U= field is replaced.
std::string MaildirNameWithUid(std::string_view name, uint32_t uid);

// The cur/ name of a message file as it is: `name`, with ":2," appended when it has no
// flag list yet (a file just taken from new/).
std::string MaildirCurName(std::string_view name);

// The Maildir++ directory of `folder` under the root: "Processed" -> ".Processed",
// "Archive/2024" -> ".Archive.2024". Empty when `folder` cannot name one safely: empty,
// starting or ending with '.' or '/', holding a NUL, or with a level that would be empty
// or climb out of the root ("A//B", "A/.B", "A/../B").
std::string MaildirFolderDir(const std::string& folder);

}  // namespace mailreqd
