#include "daemon/random_bytes.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <set>
#include <string>

using mailreqd::RandomBytes;

namespace {

std::string Draw(size_t n) {
  std::string out(n, '\0');
  REQUIRE(RandomBytes(out.data(), n));
  return out;
}

}  // namespace

TEST_CASE("RandomBytes never hands out the same bytes twice", "[random]") {
  // 200 draws of 17 bytes go through several refills of the pool.
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(Draw(17));
  CHECK(seen.size() == 200);
}

TEST_CASE("RandomBytes fills draws larger than its pool", "[random]") {
  const std::string a = Draw(4096);
  const std::string b = Draw(4096);
  CHECK(a != b);
  CHECK(a.find(std::string(64, '\0')) == std::string::npos);  // all of it was written
}

TEST_CASE("RandomBytes in a forked child does not repeat its parent's pool", "[random]") {
  Draw(8);  // the pool now holds unused bytes that the child inherits
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::array<unsigned char, 16> bytes{};
    bool ok = RandomBytes(bytes.data(), bytes.size());
    ssize_t wrote = ok ? write(pipe_fds[1], bytes.data(), bytes.size()) : -1;
    _exit(wrote == static_cast<ssize_t>(bytes.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string from_child(16, '\0');
  ssize_t got = read(pipe_fds[0], from_child.data(), from_child.size());
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == 16);
  CHECK(Draw(16) != from_child);
}
