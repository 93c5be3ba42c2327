// Random bytes from the kernel (getrandom(2)), drawn a few hundred at a time.
//
// Each reply needs a Message-ID (8 random bytes) and many a confirmation token
// (17): one getrandom call each was 17,000 system calls per 10,000 mails, and a
// system call is dear on a virtual machine. The bytes are the kernel's, unchanged;
// only when they are read changes. Each byte is handed out once and wiped from the
// pool as it goes; a forked child never reuses its parent's pool.
#pragma once

#include <cstddef>

namespace mailreqd {

// Fills `out` with `n` random bytes. Returns false only if getrandom fails (a kernel
// older than 3.17); the caller decides what to do without randomness. Thread-safe:
// each thread has its own pool.
bool RandomBytes(void* out, size_t n);

}  // namespace mailreqd
