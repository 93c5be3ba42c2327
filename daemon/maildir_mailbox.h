// MaildirMailbox: the Mailbox port over a local Maildir (a "maildir:///path" URL), for
// hosts where the MTA delivers locally. Same guarantees as ImapMailbox:
//  - Pending() takes every file in new/ into cur/ (the Maildir way of saying "seen
//    arriving") and gives each message a UID stored in its file name (",U=<n>", see
//    maildir_names.h), reserved in <root>/mailreqd-uidlist before any rename: UIDs and
//    UIDVALIDITY stay the same across restarts, and a crash only leaves gaps.
//  - Move() renames files into the Maildir++ folder <root>/.<folder>/cur/, keeping their
//    names and so their flags, and fsyncs both directories: a moved mail stays moved.
//  - WaitForMail() watches new/ and cur/ with inotify.
//  - Read-only (for --dry-run): Pending() numbers new mail in memory only; nothing is
//    taken into cur/, no UID is reserved, Move() refuses.
// Errors are transient (retry later) unless stated; they name paths and folders, never
// message content. Not thread-safe; two processes on one Maildir are safe (Pending() holds
// an flock(2) on the root while it numbers files).
#pragma once

#include <map>
#include <set>
#include <string>

#include "daemon/maildir_names.h"
#include "daemon/maildir_uidlist.h"
#include "daemon/ports.h"
#include "daemon/unique_fd.h"

namespace mailreqd {

class MaildirMailbox : public Mailbox {
 public:
  // `root`: the absolute path of the Maildir (holding cur/ new/ tmp/), as given by
  // MaildirPathOfUrl(). Nothing is touched before the first call, nor ever when
  // `read_only`.
  explicit MaildirMailbox(std::string root, bool read_only = false);

  // Messages in cur/ (after taking in new/), by UID; size is the file's size.
  Result<std::vector<PendingMessage>> PendingAfter(uint32_t after, size_t limit) override;
  // Whole files; `arrived` is the file's mtime (set by the MTA at delivery). A UID not
  // listed by the last Pending(), or whose file is gone, is absent from the result.
  Result<std::vector<RawMessage>> Fetch(const std::vector<uint32_t>& uids) override;
  // Folder "A/B" is <root>/.A.B/, created (with maildirfolder) when missing. A folder name
  // that cannot be a Maildir++ folder is a permanent error. Gone UIDs are skipped.
  Status Move(const std::vector<uint32_t>& uids, const std::string& folder) override;
  // True as soon as a file arrives in new/ (or in cur/ from another client); false after
  // `seconds`, or within 200 ms of `*stop` becoming true.
  Result<bool> WaitForMail(int seconds, const volatile bool* stop) override;

  // Set by Pending(); 0 before.
  uint32_t uidvalidity() const { return uids_.uidvalidity; }
  uint64_t commands_sent() const { return 0; }  // no protocol: for the run loop's figures
  // Checks that the root has cur/, new/ and tmp/ and starts watching them. Permanent when
  // the root or one of them does not exist (a Maildir is never created by us: a typo must
  // not become an empty mailbox), transient on other errors.
  Status Ready();

 private:
  Result<std::vector<PendingMessage>> TakeIn();             // Pending() without its error context
  Status Rescan();                                          // names_ afresh from cur/
  std::string PathOf(uint32_t uid) const;                   // empty when not known
  int RenameInto(uint32_t uid, const std::string& to_dir);  // 0 or the errno
  Status MoveInto(const std::vector<uint32_t>& uids, const std::string& dir);
  Status EnsureFolder(const std::string& dir);
  Status Watch();
  Result<bool> ReadEvents();  // true when an event may be new mail

  std::string root_;
  bool read_only_;
  bool ready_ = false;
  MaildirUidList uids_;
  // uid -> "cur/<file name>" as last seen ("new/..." too when read-only)
  std::map<uint32_t, std::string> names_;
  std::set<std::string> known_folders_;    // Maildir++ directories known to exist
  UniqueFd inotify_;
  int new_watch_ = -1;
  int cur_watch_ = -1;
};

}  // namespace mailreqd
