// MaildirMailbox on a real Maildir in a temporary directory: what an MTA delivers is
// listed, numbered for good, fetched, moved and waited for, across restarts.
#include "daemon/maildir_mailbox.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace mailreqd {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A Maildir under /tmp, removed with everything in it at the end of the test.
class TempMaildir {
 public:
  TempMaildir() {
    std::string pattern = "/tmp/mailreqd-maildir-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directory(root_ / sub);
  }
  ~TempMaildir() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  std::string root() const { return root_.string(); }

  // Writes `name` into tmp/ with modification time `mtime`, then renames it into `dir`,
  // as an MTA delivers.
  void Put(const std::string& dir, const std::string& name, const std::string& text,
           int64_t mtime = 1700000000) const {
    fs::path tmp = root_ / "tmp" / name;
    std::ofstream(tmp, std::ios::binary) << text;
    struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
    REQUIRE(::utimensat(AT_FDCWD, tmp.c_str(), times, 0) == 0);
    fs::rename(tmp, root_ / dir / name);
  }
  void Deliver(const std::string& name, const std::string& text, int64_t mtime = 1700000000) const {
    Put("new", name, text, mtime);
  }
  std::set<std::string> Names(const std::string& dir) const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(root_ / dir)) out.insert(e.path().filename());
    return out;
  }

 private:
  fs::path root_;
};

std::vector<uint32_t> UidsOf(const std::vector<PendingMessage>& pending) {
  std::vector<uint32_t> out;
  for (const auto& p : pending) out.push_back(p.uid);
  return out;
}

std::vector<PendingMessage> PendingOf(MaildirMailbox& mailbox) {
  auto pending = mailbox.Pending();
  INFO(pending.status().message());
  REQUIRE(pending.ok());
  return *pending;
}

TEST_CASE("MaildirMailbox takes new mail into cur/ and numbers it in order of delivery",
          "[maildir]") {
  TempMaildir md;
  md.Deliver("1700000200.M2P9.host", "Subject: second\r\n\r\nb\r\n", 1700000200);
  md.Deliver("1700000100.M1P9.host", "Subject: first\r\n\r\na\r\n", 1700000100);
  MaildirMailbox mailbox(md.root());

  auto pending = PendingOf(mailbox);
  REQUIRE(pending.size() == 2);
  CHECK(UidsOf(pending) == std::vector<uint32_t>{1, 2});
  CHECK(pending[0].size == std::string("Subject: first\r\n\r\na\r\n").size());
  CHECK(pending[0].uidvalidity == mailbox.uidvalidity());
  CHECK(mailbox.uidvalidity() != 0);
  CHECK(md.Names("new").empty());
  CHECK(md.Names("cur") ==
        std::set<std::string>{"1700000100.M1P9.host,U=1:2,", "1700000200.M2P9.host,U=2:2,"});
  CHECK(ReadAll(md.root() + "/mailreqd-uidlist") == std::to_string(mailbox.uidvalidity()) + " 3\n");

  // Listing again changes nothing.
  CHECK(UidsOf(PendingOf(mailbox)) == std::vector<uint32_t>{1, 2});
  CHECK(md.Names("cur").size() == 2);
  CHECK(mailbox.commands_sent() == 0);
}

TEST_CASE("MaildirMailbox read-only (--dry-run) lists and reads mail, changing nothing",
          "[maildir]") {
  TempMaildir md;
  md.Put("cur", "1700000050.M0P9.host,U=7:2,S", "Subject: old\r\n\r\no\r\n", 1700000050);
  md.Deliver("1700000100.M1P9.host", "Subject: first\r\n\r\na\r\n", 1700000100);
  md.Deliver("1700000200.M2P9.host", "Subject: second\r\n\r\nb\r\n", 1700000200);
  const std::set<std::string> cur_before = md.Names("cur"), new_before = md.Names("new");
  MaildirMailbox mailbox(md.root(), /*read_only=*/true);

  auto pending = PendingOf(mailbox);
  REQUIRE(pending.size() == 3);
  // The file numbered before keeps its UID; new mail is numbered above it, in memory.
  CHECK(UidsOf(pending) == std::vector<uint32_t>{7, 8, 9});
  auto raws = mailbox.Fetch(UidsOf(pending));
  REQUIRE(raws.ok());
  REQUIRE(raws->size() == 3);
  CHECK((*raws)[0].bytes == "Subject: old\r\n\r\no\r\n");
  CHECK((*raws)[1].bytes == "Subject: first\r\n\r\na\r\n");
  CHECK((*raws)[2].bytes == "Subject: second\r\n\r\nb\r\n");
  CHECK((*raws)[2].arrived == 1700000200);

  Status moved = mailbox.Move({8}, "Processed");
  CHECK(moved.kind() == ErrorKind::kPermanent);
  CHECK_THAT(moved.message(), Catch::Contains("read-only"));

  CHECK(md.Names("cur") == cur_before);
  CHECK(md.Names("new") == new_before);
  CHECK_FALSE(fs::exists(md.root() + "/mailreqd-uidlist"));
  CHECK_FALSE(fs::exists(md.root() + "/.Processed"));
}

TEST_CASE("MaildirMailbox keeps uids and uidvalidity across a restart", "[maildir]") {
  TempMaildir md;
  md.Deliver("a", "A");
  md.Deliver("b", "B", 1700000001);
  std::vector<PendingMessage> before;
  uint32_t validity = 0;
  {
    MaildirMailbox first(md.root());
    before = PendingOf(first);
    validity = first.uidvalidity();
  }
  md.Deliver("c", "C");
  MaildirMailbox second(md.root());
  auto after = PendingOf(second);
  CHECK(second.uidvalidity() == validity);
  REQUIRE(after.size() == 3);
  CHECK(after[0].uid == before[0].uid);
  CHECK(after[1].uid == before[1].uid);
  CHECK(after[2].uid == 3);
  for (const auto& p : after) CHECK(p.uidvalidity == validity);
}

TEST_CASE("MaildirMailbox keeps the flags and uids of files already in cur/", "[maildir]") {
  TempMaildir md;
  md.Put("cur", "read-one:2,S", "seen");
  md.Put("cur", "ours,U=40:2,RS", "numbered before");
  md.Put("cur", ".hidden", "not a message");
  std::filesystem::create_directory(md.root() + "/new/not-a-file");
  MaildirMailbox mailbox(md.root());

  auto pending = PendingOf(mailbox);
  CHECK(UidsOf(pending) == std::vector<uint32_t>{40, 41});
  CHECK(md.Names("cur") == std::set<std::string>{".hidden", "ours,U=40:2,RS", "read-one,U=41:2,S"});
}

TEST_CASE("MaildirMailbox numbers above the files when its state file was lost", "[maildir]") {
  TempMaildir md;
  md.Put("cur", "old,U=7:2,", "seven");
  md.Deliver("copy,U=7", "a copy carrying the same uid");
  md.Deliver("fresh", "new");
  MaildirMailbox mailbox(md.root());

  auto pending = PendingOf(mailbox);
  CHECK(UidsOf(pending) == std::vector<uint32_t>{7, 8, 9});
  CHECK(md.Names("cur").count("old,U=7:2,"));
}

TEST_CASE("MaildirMailbox refuses a state file someone edited", "[maildir]") {
  TempMaildir md;
  std::ofstream(md.root() + "/mailreqd-uidlist") << "hello\n";
  MaildirMailbox mailbox(md.root());
  auto pending = mailbox.Pending();
  REQUIRE_FALSE(pending.ok());
  CHECK(pending.status().kind() == ErrorKind::kPermanent);
  CHECK_THAT(pending.status().message(), Catch::Contains("mailreqd-uidlist"));
}

TEST_CASE("MaildirMailbox fetches bytes and delivery time; a vanished uid is absent", "[maildir]") {
  TempMaildir md;
  md.Deliver("one", "Subject: one\r\n\r\nbody\r\n", 1700000123);
  md.Deliver("two", "Subject: two\r\n\r\n", 1700000456);
  md.Deliver("three", "Subject: three\r\n\r\n", 1700000789);
  MaildirMailbox mailbox(md.root());
  REQUIRE(UidsOf(PendingOf(mailbox)) == std::vector<uint32_t>{1, 2, 3});

  // Another client moves uid 2 away and marks uid 3 as read (renaming its file).
  std::filesystem::remove(md.root() + "/cur/two,U=2:2,");
  std::filesystem::rename(md.root() + "/cur/three,U=3:2,", md.root() + "/cur/three,U=3:2,S");

  auto raws = mailbox.Fetch({1, 2, 3, 99});
  INFO(raws.status().message());
  REQUIRE(raws.ok());
  REQUIRE(raws->size() == 2);
  CHECK((*raws)[0].uid == 1);
  CHECK((*raws)[0].bytes == "Subject: one\r\n\r\nbody\r\n");
  CHECK((*raws)[0].arrived == 1700000123);
  CHECK((*raws)[1].uid == 3);
  CHECK((*raws)[1].arrived == 1700000789);
}

TEST_CASE("MaildirMailbox moves mail into a Maildir++ folder, keeping its flags", "[maildir]") {
  TempMaildir md;
  md.Put("cur", "flagged:2,S", "read already");
  md.Deliver("plain", "new");
  MaildirMailbox mailbox(md.root());
  REQUIRE(UidsOf(PendingOf(mailbox)) == std::vector<uint32_t>{1, 2});

  Status s = mailbox.Move({1, 2, 77}, "Processed");  // 77 never existed: skipped
  INFO(s.message());
  REQUIRE(s.ok());
  for (const char* sub : {"cur", "new", "tmp"}) {
    CHECK(std::filesystem::is_directory(md.root() + "/.Processed/" + sub));
  }
  CHECK(std::filesystem::is_regular_file(md.root() + "/.Processed/maildirfolder"));
  CHECK(md.Names(".Processed/cur") == std::set<std::string>{"flagged,U=1:2,S", "plain,U=2:2,"});
  CHECK(md.Names("cur").empty());
  CHECK(PendingOf(mailbox).empty());
  CHECK(mailbox.Fetch({1}).value().empty());

  md.Deliver("later", "x");
  REQUIRE(UidsOf(PendingOf(mailbox)) == std::vector<uint32_t>{3});
  REQUIRE(mailbox.Move({3}, "Archive/2024").ok());
  CHECK(md.Names(".Archive.2024/cur") == std::set<std::string>{"later,U=3:2,"});
}

TEST_CASE("MaildirMailbox refuses folder names that are not Maildir++ folders", "[maildir]") {
  TempMaildir md;
  MaildirMailbox mailbox(md.root());
  auto folder = GENERATE(as<std::string>{}, "", "../etc", ".hidden", "A/../B", "A//B", "A/");
  INFO(folder);
  Status s = mailbox.Move({1}, folder);
  REQUIRE_FALSE(s.ok());
  CHECK(s.kind() == ErrorKind::kPermanent);
  CHECK_THAT(s.message(), Catch::Contains("\"" + folder + "\""));
}

TEST_CASE("MaildirMailbox reports a missing Maildir with its path", "[maildir]") {
  TempMaildir md;
  SECTION("no such directory") {
    MaildirMailbox mailbox(md.root() + "/nowhere");
    Status s = mailbox.Ready();
    CHECK(s.kind() == ErrorKind::kPermanent);
    CHECK_THAT(s.message(), Catch::Contains(md.root() + "/nowhere"));
    auto pending = mailbox.Pending();
    REQUIRE_FALSE(pending.ok());
    CHECK(pending.status().kind() == ErrorKind::kPermanent);
  }
  SECTION("a directory that is not a Maildir") {
    std::filesystem::remove(md.root() + "/tmp");
    MaildirMailbox mailbox(md.root());
    Status s = mailbox.Ready();
    CHECK(s.kind() == ErrorKind::kPermanent);
    CHECK_THAT(s.message(), Catch::Contains(md.root() + "/tmp"));
  }
}

TEST_CASE("MaildirMailbox wakes up for a delivery, not for its own renames", "[maildir]") {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  TempMaildir md;
  md.Deliver("before", "x");
  MaildirMailbox mailbox(md.root());
  REQUIRE(PendingOf(mailbox).size() == 1);  // renames "before" inside cur/

  SECTION("nothing arrives: false after the timeout") {
    auto start = steady_clock::now();
    auto waited = mailbox.WaitForMail(1, nullptr);
    REQUIRE(waited.ok());
    CHECK_FALSE(*waited);
    CHECK(steady_clock::now() - start >= milliseconds(950));
  }
  SECTION("a delivery: true within a second") {
    std::thread mta([&] {
      std::this_thread::sleep_for(milliseconds(100));
      md.Deliver("during", "y");
    });
    auto start = steady_clock::now();
    auto waited = mailbox.WaitForMail(10, nullptr);
    mta.join();
    REQUIRE(waited.ok());
    CHECK(*waited);
    CHECK(steady_clock::now() - start < milliseconds(1000));
  }
  SECTION("stop: false, promptly") {
    volatile bool stop = false;
    std::thread signal([&] {
      std::this_thread::sleep_for(milliseconds(100));
      stop = true;
    });
    auto start = steady_clock::now();
    auto waited = mailbox.WaitForMail(10, &stop);
    signal.join();
    REQUIRE(waited.ok());
    CHECK_FALSE(*waited);
    CHECK(steady_clock::now() - start < milliseconds(1000));
  }
}

TEST_CASE("MaildirPathOfUrl accepts only local absolute paths", "[maildir]") {
  CHECK(MaildirPathOfUrl("maildir:///var/mail/support/Maildir") == "/var/mail/support/Maildir");
  CHECK(MaildirPathOfUrl("maildir:/var/mail/support/Maildir/") == "/var/mail/support/Maildir");
  CHECK(MaildirPathOfUrl("maildir:Maildir") == "");
  CHECK(MaildirPathOfUrl("maildir://host/Maildir") == "");
  CHECK(MaildirPathOfUrl("maildir:") == "");
  CHECK(MaildirPathOfUrl("imap://host/INBOX") == "");
  CHECK(IsMaildirUrl("maildir:Maildir"));
  CHECK_FALSE(IsMaildirUrl("imaps://host/INBOX"));
}

TEST_CASE("Maildir names carry the uid in the unique part", "[maildir]") {
  CHECK(UidOfMaildirName("1.M2P3.host,S=120,U=17:2,RS") == 17);
  CHECK(UidOfMaildirName("1.M2P3.host,U=17,S=120") == 17);
  CHECK(UidOfMaildirName("1.M2P3.host:2,U=17") == 0);  // flags, not the unique part
  CHECK(UidOfMaildirName("1.M2P3.host,U=x:2,") == 0);
  CHECK(UidOfMaildirName("1.M2P3.host,U=99999999999:2,") == 0);
  CHECK(MaildirNameWithUid("1.M2.host:2,S", 7) == "1.M2.host,U=7:2,S");
  CHECK(MaildirNameWithUid("1.M2.host", 7) == "1.M2.host,U=7:2,");
  CHECK(MaildirNameWithUid("1.M2.host,U=3,S=9:2,F", 7) == "1.M2.host,S=9,U=7:2,F");
  CHECK(MaildirCurName("1.M2.host") == "1.M2.host:2,");
  CHECK(MaildirCurName("1.M2.host,U=3:2,S") == "1.M2.host,U=3:2,S");
  CHECK(MaildirFolderDir("Needs-Review") == ".Needs-Review");
  CHECK(MaildirFolderDir("Archive/2024") == ".Archive.2024");
  CHECK(MaildirFolderDir("..") == "");
}

}  // namespace
}  // namespace mailreqd
