#include "daemon/sqlite_wal_vfs.h"

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <new>
#include <string>

namespace mailreqd {
namespace {

constexpr const char* kVfsName = "mailreqd-wal";
// A gathering is written out before it would pass this, commit frame or not: a large
// transaction costs a pwrite per 64 KB, not memory. The unix VFS writes at most 128 KB
// - 1 per call (it masks the length to 17 bits), so this must stay below that.
constexpr size_t kMaxGathered = 64 * 1024;
constexpr int kFrameHeaderBytes = 24;

sqlite3_vfs* base_vfs = nullptr;  // "unix", set once by WalGatheringVfs

// Our file object. SQLite allocates szOsFile bytes for it: this struct, then the base
// VFS's own file object right after it.
struct File {
  sqlite3_file base;    // must come first: SQLite sees a File as an sqlite3_file
  sqlite3_file* real;   // the base VFS's file, in the same allocation
  bool wal;             // writes are gathered
  bool commit_next;     // the last write was a commit frame's header: its page ends it
  bool wrote_last;      // the last call on this file was a write
  sqlite3_int64 start;  // file offset of gathered[0]
  std::string* gathered;
};

File* Of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
const sqlite3_io_methods* Real(File* f) { return f->real->pMethods; }

// Writes what is gathered.
int WriteOut(File* f) {
  if (f->gathered->empty()) return SQLITE_OK;
  const int rc = Real(f)->xWrite(f->real, f->gathered->data(),
                                 static_cast<int>(f->gathered->size()), f->start);
  f->gathered->clear();  // on failure too: SQLite rolls back on the error it gets
  return rc;
}

// A WAL frame header stores, at bytes 4-7, the database size in pages after the commit
// it ends, and 0 in every other frame.
bool IsCommitHeader(const void* data, int amount) {
  if (amount != kFrameHeaderBytes) return false;
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

// A commit frame is its header, then its page: the page's write ends the commit. But
// when SQLite rewrites the checksums of frames it overwrote in the transaction, it reads
// each frame and writes a new header alone, the commit frame's last, and nothing
// follows: a commit header that comes after anything but a write goes out at once.
int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
  if (!f->wal) return Real(f)->xWrite(f->real, data, amount, offset);
  const bool after_write = f->wrote_last;
  const bool follows = offset == f->start + static_cast<sqlite3_int64>(f->gathered->size());
  if (!follows || f->gathered->size() + static_cast<size_t>(amount) > kMaxGathered) {
    const int rc = WriteOut(f);
    if (rc != SQLITE_OK) return rc;
    f->start = offset;
  }
  f->gathered->append(static_cast<const char*>(data), static_cast<size_t>(amount));
  const bool ends_commit = f->commit_next;
  const bool commit_header = IsCommitHeader(data, amount);
  f->commit_next = commit_header;
  f->wrote_last = true;
  return ends_commit || (commit_header && !after_write) ? WriteOut(f) : SQLITE_OK;
}

// Every call but a write comes through here first (a no-op for unbuffered files).
int NotAWrite(File* f) {
  f->wrote_last = false;
  return WriteOut(f);
}

// Every other method writes out first, then passes on.
int Close(sqlite3_file* file) {
  File* f = Of(file);
  int rc = NotAWrite(f);
  const int closed = Real(f)->xClose(f->real);
  delete f->gathered;
  f->gathered = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}
int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
  const int rc = NotAWrite(f);
  return rc != SQLITE_OK ? rc : Real(f)->xRead(f->real, data, amount, offset);
}
int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = Of(file);
  const int rc = NotAWrite(f);
  return rc != SQLITE_OK ? rc : Real(f)->xTruncate(f->real, size);
}
int Sync(sqlite3_file* file, int flags) {
  File* f = Of(file);
  const int rc = NotAWrite(f);
  return rc != SQLITE_OK ? rc : Real(f)->xSync(f->real, flags);
}
int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = Of(file);
  const int rc = NotAWrite(f);
  return rc != SQLITE_OK ? rc : Real(f)->xFileSize(f->real, size);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  File* f = Of(file);
  const int rc = NotAWrite(f);
  return rc != SQLITE_OK ? rc : Real(f)->xFileControl(f->real, op, arg);
}
int Lock(sqlite3_file* file, int level) { return Real(Of(file))->xLock(Of(file)->real, level); }
int Unlock(sqlite3_file* file, int level) { return Real(Of(file))->xUnlock(Of(file)->real, level); }
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(Of(file))->xCheckReservedLock(Of(file)->real, out);
}
int SectorSize(sqlite3_file* file) { return Real(Of(file))->xSectorSize(Of(file)->real); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(Of(file))->xDeviceCharacteristics(Of(file)->real);
}
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Real(Of(file))->xShmMap(Of(file)->real, region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(Of(file))->xShmLock(Of(file)->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Real(Of(file))->xShmBarrier(Of(file)->real); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(Of(file))->xShmUnmap(Of(file)->real, delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return Real(Of(file))->xFetch(Of(file)->real, offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Real(Of(file))->xUnfetch(Of(file)->real, offset, page);
}

const sqlite3_io_methods kMethods = {
    .iVersion = 3,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = Fetch,
    .xUnfetch = Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = Of(file);
  f->base.pMethods = nullptr;  // until the base file is open: SQLite then calls no xClose
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  const int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    return rc;
  }
  if (f->real->pMethods->iVersion < kMethods.iVersion) {  // never so for "unix"
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->commit_next = false;
  f->wrote_last = false;
  f->start = 0;
  f->gathered = new (std::nothrow) std::string;
  if (!f->gathered) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_NOMEM;
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the base VFS's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return base_vfs->xDelete(base_vfs, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return base_vfs->xAccess(base_vfs, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return base_vfs->xFullPathname(base_vfs, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return base_vfs->xDlOpen(base_vfs, name); }
void DlError(sqlite3_vfs*, int size, char* out) { base_vfs->xDlError(base_vfs, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return base_vfs->xDlSym(base_vfs, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { base_vfs->xDlClose(base_vfs, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) {
  return base_vfs->xRandomness(base_vfs, size, out);
}
int Sleep(sqlite3_vfs*, int micros) { return base_vfs->xSleep(base_vfs, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return base_vfs->xCurrentTime(base_vfs, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return base_vfs->xGetLastError(base_vfs, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

sqlite3_vfs vfs = {};

}  // namespace

const char* WalGatheringVfs() {
  static std::once_flag once;
  static bool registered = false;
  std::call_once(once, [] {
    base_vfs = sqlite3_vfs_find("unix");
    if (!base_vfs || base_vfs->iVersion < 2) return;
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(File)) + base_vfs->szOsFile;
    vfs.mxPathname = base_vfs->mxPathname;
    vfs.zName = kVfsName;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = DlOpen;
    vfs.xDlError = DlError;
    vfs.xDlSym = DlSym;
    vfs.xDlClose = DlClose;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    registered = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
  });
  return registered ? kVfsName : nullptr;
}

}  // namespace mailreqd
