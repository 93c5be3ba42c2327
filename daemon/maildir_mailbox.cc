#include "daemon/maildir_mailbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <memory>
#include <optional>
#include <tuple>

#include "daemon/durable_file.h"

namespace mailreqd {
namespace {

constexpr int kWaitSliceMs = 200;  // how late WaitForMail may notice `*stop`

struct MaildirFile {
  std::string dir;  // "new" or "cur"
  std::string name;
  uint64_t size = 0;
  int64_t mtime = 0;
};

// A file with the UID it has or gets, and its name in cur/ once it is there.
struct Placement {
  MaildirFile file;
  uint32_t uid = 0;
  std::string cur_name;
};

Status Failed(const std::string& what, int err) {
  return Status::Transient(what + ": " + ErrnoText(err));
}

// `s` (when an error) with `context` in front, of the same kind.
Status WithContext(const std::string& context, const Status& s) {
  std::string m = context + ": " + s.message();
  switch (s.kind()) {
    case ErrorKind::kNone:
      return s;
    case ErrorKind::kPermanent:
      return Status::Permanent(m);
    case ErrorKind::kFatal:
      return Status::Fatal(m);
    case ErrorKind::kTransient:
      break;
  }
  return Status::Transient(m);
}

// The regular files of <root>/<dir>. Dot-files are the Maildir's own (or a client's)
// bookkeeping, and anything but a regular file is not a message.
Result<std::vector<MaildirFile>> ListFiles(const std::string& root, const char* dir) {
  std::string path = root + "/" + dir;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), ::closedir);
  if (!d) return Failed("list " + path, errno);
  std::vector<MaildirFile> out;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d.get());
    if (!e) break;
    if (e->d_name[0] == '.') continue;
    struct stat st {};
    if (::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // moved away by another client meanwhile
      return Failed("stat " + path + "/" + e->d_name, errno);
    }
    if (!S_ISREG(st.st_mode)) continue;
    out.push_back({dir, e->d_name, static_cast<uint64_t>(st.st_size), st.st_mtime});
  }
  if (errno != 0) return Failed("list " + path, errno);
  return out;
}

// Gives every file its UID: the one in its name when no other file holds it, else the
// next free one, in order of arrival (mtime, then name) so that UIDs follow delivery.
Result<std::vector<Placement>> Number(std::vector<MaildirFile> files, MaildirUidList& uids) {
  // cur/ first: a copy in new/ of a file already numbered is the one that gets a new UID.
  std::sort(files.begin(), files.end(), [](const MaildirFile& a, const MaildirFile& b) {
    bool a_new = a.dir == "new", b_new = b.dir == "new";
    return std::tie(a_new, a.name) < std::tie(b_new, b.name);
  });
  std::vector<Placement> out;
  std::vector<MaildirFile> fresh;
  std::set<uint32_t> taken;
  for (auto& f : files) {
    uint32_t uid = UidOfMaildirName(f.name);
    if (uid == 0 || uid == UINT32_MAX || !taken.insert(uid).second) {
      fresh.push_back(std::move(f));
      continue;
    }
    // Above next_uid only when the state file was lost: never hand these out again.
    uids.next_uid = std::max(uids.next_uid, uid + 1);
    std::string cur_name = MaildirCurName(f.name);
    out.push_back({std::move(f), uid, std::move(cur_name)});
  }
  std::sort(fresh.begin(), fresh.end(), [](const MaildirFile& a, const MaildirFile& b) {
    return std::tie(a.mtime, a.name) < std::tie(b.mtime, b.name);
  });
  for (auto& f : fresh) {
    if (uids.next_uid == UINT32_MAX) return Status::Permanent("maildir: UIDs exhausted");
    uint32_t uid = uids.next_uid++;
    std::string cur_name = MaildirNameWithUid(f.name, uid);
    out.push_back({std::move(f), uid, std::move(cur_name)});
  }
  return out;
}

// flock(2) on the root, held while files are numbered, so that two processes on one
// Maildir (the daemon and a --once run) never hand out one UID twice.
Result<UniqueFd> LockRoot(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Failed("open " + root, errno);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Failed("lock " + root, errno);
  }
  return Result<UniqueFd>(std::move(fd));
}

// Puts every file in cur/ under its placement name. Returns uid -> name in cur/ of those
// placed (a file gone meanwhile, taken by another client, is left out).
Result<std::map<uint32_t, std::string>> Place(const std::string& root,
                                              const std::vector<Placement>& placements) {
  std::map<uint32_t, std::string> names;
  bool renamed = false;
  for (const auto& p : placements) {
    if (p.file.dir != "cur" || p.file.name != p.cur_name) {
      std::string from = root + "/" + p.file.dir + "/" + p.file.name;
      std::string to = root + "/cur/" + p.cur_name;
      if (::rename(from.c_str(), to.c_str()) != 0) {
        if (errno == ENOENT) continue;
        return Failed("rename " + from + " to " + to, errno);
      }
      renamed = true;
    }
    names[p.uid] = "cur/" + p.cur_name;
  }
  // So that after a power cut a message keeps the UID it was listed with.
  Status s = renamed ? SyncDirectory(root + "/cur") : Status::Ok();
  if (s.ok() && renamed) s = SyncDirectory(root + "/new");
  if (!s.ok()) return s;
  return names;
}

// The message at `path`; nullopt when there is no such file (any more).
Result<std::optional<RawMessage>> ReadMessage(const std::string& path, uint32_t uid) {
  if (path.empty()) return std::optional<RawMessage>();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid() && errno == ENOENT) return std::optional<RawMessage>();
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return Failed("read " + path, errno);
  RawMessage raw;
  raw.uid = uid;
  raw.arrived = st.st_mtime;  // set by the MTA at delivery; Dovecot's received date too
  // Sized once from the file: however large, the message is read in place, not regrown.
  raw.bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < raw.bytes.size()) {
    ssize_t n = ::read(fd.get(), raw.bytes.data() + done, raw.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failed("read " + path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  raw.bytes.resize(done);
  return std::optional<RawMessage>(std::move(raw));
}

}  // namespace

MaildirMailbox::MaildirMailbox(std::string root, bool read_only)
    : root_(std::move(root)), read_only_(read_only) {}

Status MaildirMailbox::Ready() {
  if (ready_) return Status::Ok();
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) {
    std::string path = root_ + sub;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      int err = errno;
      if (err != ENOENT) return Failed("maildir: " + path, err);
      return Status::Permanent("maildir: " + path + ": " + ErrnoText(err) +
                               " (a Maildir has cur/, new/ and tmp/)");
    }
    if (!S_ISDIR(st.st_mode)) return Status::Permanent("maildir: " + path + ": not a directory");
  }
  Status s = Watch();
  if (!s.ok()) return WithContext("maildir", s);
  ready_ = true;
  return Status::Ok();
}

// Watching starts before the first listing, so that nothing delivered after a listing
// began can be missed by the wait that follows it.
Status MaildirMailbox::Watch() {
  inotify_.Reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_.valid()) return Failed("inotify", errno);
  // IN_MOVED_TO: the standard delivery, tmp/ -> new/. IN_CREATE: writers that skip tmp/.
  const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_ONLYDIR;
  std::string new_dir = root_ + "/new", cur_dir = root_ + "/cur";
  new_watch_ = ::inotify_add_watch(inotify_.get(), new_dir.c_str(), mask);
  if (new_watch_ < 0) return Failed("inotify watch on " + new_dir, errno);
  cur_watch_ = ::inotify_add_watch(inotify_.get(), cur_dir.c_str(), mask);
  if (cur_watch_ < 0) return Failed("inotify watch on " + cur_dir, errno);
  return Status::Ok();
}

Result<std::vector<PendingMessage>> MaildirMailbox::PendingAfter(uint32_t after, size_t limit) {
  Status s = Ready();
  if (!s.ok()) return s;
  auto listed = TakeIn();
  if (!listed.ok()) return WithContext("maildir", listed.status());
  KeepOldest(*listed, after, limit);
  return listed;
}

Result<std::vector<PendingMessage>> MaildirMailbox::TakeIn() {
  auto lock = LockRoot(root_);
  if (!lock.ok()) return lock.status();
  auto state = LoadMaildirUidList(root_, /*create=*/!read_only_);
  if (!state.ok()) return state.status();
  uids_ = *state;
  std::vector<MaildirFile> files;
  for (const char* dir : {"cur", "new"}) {
    auto listed = ListFiles(root_, dir);
    if (!listed.ok()) {
      ready_ = false;  // the Maildir may be gone: check it again next time
      return listed.status();
    }
    std::move(listed->begin(), listed->end(), std::back_inserter(files));
  }
  auto placements = Number(std::move(files), uids_);
  if (!placements.ok()) return placements.status();
  if (read_only_) {
    names_.clear();  // where each file is now: new mail stays in new/
    for (const auto& p : *placements) names_[p.uid] = p.file.dir + "/" + p.file.name;
  } else {
    // UIDs are reserved before any file carries them: a crash in between leaves a gap,
    // never one UID on two messages.
    if (uids_.next_uid != state->next_uid) {
      Status s = SaveMaildirUidList(root_, uids_);
      if (!s.ok()) return s;
    }
    auto names = Place(root_, *placements);
    if (!names.ok()) return names.status();
    names_ = std::move(*names);
  }
  std::vector<PendingMessage> out;
  for (const auto& p : *placements) {
    if (names_.count(p.uid)) out.push_back({p.uid, uids_.uidvalidity, p.file.size});
  }
  std::sort(out.begin(), out.end(),
            [](const PendingMessage& a, const PendingMessage& b) { return a.uid < b.uid; });
  return out;
}

Status MaildirMailbox::Rescan() {
  auto files = ListFiles(root_, "cur");
  if (!files.ok()) return files.status();
  names_.clear();
  for (const auto& f : *files) {
    if (uint32_t uid = UidOfMaildirName(f.name)) names_.emplace(uid, "cur/" + f.name);
  }
  return Status::Ok();
}

std::string MaildirMailbox::PathOf(uint32_t uid) const {
  auto it = names_.find(uid);
  return it == names_.end() ? "" : root_ + "/" + it->second;
}

Result<std::vector<RawMessage>> MaildirMailbox::Fetch(const std::vector<uint32_t>& uids) {
  std::vector<RawMessage> out;
  bool rescanned = false;
  for (uint32_t uid : uids) {
    auto raw = ReadMessage(PathOf(uid), uid);
    if (raw.ok() && !*raw && !rescanned && !read_only_) {
      // Renamed by another client changing its flags, or gone: look once more.
      rescanned = true;
      Status s = Rescan();
      if (!s.ok()) return WithContext("maildir", s);
      raw = ReadMessage(PathOf(uid), uid);
    }
    if (!raw.ok()) return WithContext("maildir", raw.status());
    if (*raw) out.push_back(std::move(**raw));
  }
  return out;
}

Status MaildirMailbox::Move(const std::vector<uint32_t>& uids, const std::string& folder) {
  std::string context = "maildir: move to folder \"" + folder + "\"";
  if (read_only_) return Status::Permanent(context + ": the Maildir is open read-only");
  std::string dir = MaildirFolderDir(folder);
  if (dir.empty()) return Status::Permanent(context + ": not a Maildir++ folder name");
  Status s = EnsureFolder(dir);
  if (s.ok()) s = MoveInto(uids, dir);
  return s.ok() ? s : WithContext(context, s);
}

Status MaildirMailbox::MoveInto(const std::vector<uint32_t>& uids, const std::string& dir) {
  std::string to_dir = root_ + "/" + dir + "/cur/";
  bool rescanned = false, moved = false;
  Status s;
  for (uint32_t uid : uids) {
    int err = RenameInto(uid, to_dir);
    if (err == ENOENT && !rescanned) {
      // Renamed by another client changing its flags, or gone: look once more.
      rescanned = true;
      s = Rescan();
      if (!s.ok()) break;
      err = RenameInto(uid, to_dir);
    }
    if (err == ENOENT) continue;  // gone: nothing left to move
    if (err != 0) {
      s = Failed("rename of uid " + std::to_string(uid) + " into " + to_dir, err);
      break;
    }
    names_.erase(uid);
    moved = true;
  }
  if (!moved) return s;
  // rename(2) is atomic but not durable: both directories must hold the change.
  Status from = SyncDirectory(root_ + "/cur");
  Status to = SyncDirectory(root_ + "/" + dir + "/cur");
  if (!s.ok()) return s;
  return from.ok() ? to : from;
}

int MaildirMailbox::RenameInto(uint32_t uid, const std::string& to_dir) {
  auto it = names_.find(uid);
  if (it == names_.end()) return ENOENT;
  const std::string& relative = it->second;  // "cur/<name>"
  std::string from = root_ + "/" + relative;
  std::string to = to_dir + relative.substr(relative.find('/') + 1);
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

Status MaildirMailbox::EnsureFolder(const std::string& dir) {
  if (known_folders_.count(dir)) return Status::Ok();
  std::string base = root_ + "/" + dir;
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) {
    std::string path = base + sub;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return Failed("mkdir " + path, errno);
  }
  // Maildir++: marks a folder for deliveries into it (Dovecot, maildrop).
  std::string marker = base + "/maildirfolder";
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Failed("create " + marker, errno);
  // The folder's name lives in the root: without this, a power cut could take the folder
  // away together with the mail moved into it.
  Status s = SyncDirectory(base);
  if (s.ok()) s = SyncDirectory(root_);
  if (s.ok()) known_folders_.insert(dir);
  return s;
}

Result<bool> MaildirMailbox::WaitForMail(int seconds, const volatile bool* stop) {
  Status s = Ready();
  if (!s.ok()) return s;
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::seconds(std::max(seconds, 0));
  while (!(stop && *stop)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{inotify_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left.count(), 0, kWaitSliceMs)));
    if (n < 0 && errno != EINTR) return WithContext("maildir", Failed("poll on inotify", errno));
    if (n > 0) {
      auto mail = ReadEvents();
      if (!mail.ok()) return WithContext("maildir", mail.status());
      if (*mail) return true;
    }
    if (left.count() <= 0) return false;
  }
  return false;
}

// Our own renames inside cur/ carry ",U=" and are not news. A lost watch (the directory
// was removed) or an overflowed queue may be: we cannot tell what was missed.
Result<bool> MaildirMailbox::ReadEvents() {
  alignas(inotify_event) char buf[4096];
  bool mail = false;
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return Failed("read of inotify events", errno);
    if (n == 0) break;
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_IGNORED) ready_ = false;  // Ready() watches afresh
      if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED)) {
        mail = true;
        continue;
      }
      std::string_view name = ev->len ? ev->name : "";
      if (name.empty() || name[0] == '.') continue;
      if (ev->wd == new_watch_ || (ev->wd == cur_watch_ && UidOfMaildirName(name) == 0)) {
        mail = true;
      }
    }
  }
  return mail;
}

}  // namespace mailreqd
