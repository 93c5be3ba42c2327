// The SQLite VFS our connections open with: the system's ("unix") with the writes to a
// WAL file gathered. SQLite writes each WAL frame as two pwrite calls (a 24-byte header,
// then the page); a drain of 10,000 mails made 120,000 of them, and each system call is
// dear on a virtual machine. Here the frames of one commit go out in one pwrite.
//
// What stays true: nothing of a commit is left in memory once SQLite calls it done.
// The commit frame (the one whose header carries the database size) ends a gathering,
// even without an fsync (synchronous=NORMAL), so another connection that learns of the
// commit from the WAL index always finds its frames in the file. Reads, syncs, size
// queries, truncation, file controls and close write out what is gathered first.
// Other files (database, journals) pass straight through.
#pragma once

namespace mailreqd {

// Registers the VFS once (not as the default) and returns its name, for
// sqlite3_open_v2; nullptr (SQLite's default VFS) if "unix" is missing.
const char* WalGatheringVfs();

}  // namespace mailreqd
