#include "daemon/random_bytes.h"

#include <pthread.h>
#include <sys/random.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace mailreqd {
namespace {

constexpr size_t kPoolBytes = 512;  // about 20 replies' worth per getrandom call

// Bumped in a forked child, whose copy of the pool its parent may also hand out.
std::atomic<unsigned> g_fork_generation{0};

void OnFork() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct Pool {
  unsigned char bytes[kPoolBytes];
  size_t left = 0;  // the unused bytes are the last `left` of `bytes`
  unsigned generation = 0;
};

bool GetRandom(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if (r < 0 && errno != EINTR) {
      return false;
    }
  }
  return true;
}

bool Refill(Pool& pool) {
  static const bool registered = pthread_atfork(nullptr, nullptr, OnFork) == 0;
  if (!registered) return false;  // without the fork guard, refill on every call instead
  if (!GetRandom(pool.bytes, kPoolBytes)) return false;
  pool.left = kPoolBytes;
  pool.generation = g_fork_generation.load(std::memory_order_relaxed);
  return true;
}

}  // namespace

bool RandomBytes(void* out, size_t n) {
  auto* dest = static_cast<unsigned char*>(out);
  if (n > kPoolBytes / 4) return GetRandom(dest, n);
  thread_local Pool pool;
  if (pool.generation != g_fork_generation.load(std::memory_order_relaxed)) pool.left = 0;
  if (pool.left < n && !Refill(pool)) return GetRandom(dest, n);
  unsigned char* from = pool.bytes + (kPoolBytes - pool.left);
  std::memcpy(dest, from, n);
  std::memset(from, 0, n);
  pool.left -= n;
  return true;
}

}  // namespace mailreqd
