#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "check.h"

namespace store {
namespace {

// SQLite's WAL format (wal.c): a 32-byte file header, then frames of a 24-byte header and a page.
// Bytes 4-7 of a frame header hold the database size in pages after a commit, 0 in other frames.
constexpr int wal_header_bytes = 32;
constexpr int frame_header_bytes = 24;
// wal.c's WAL_WRITE_LOCK: the wal-index lock slot a writer holds from its first frame to its
// commit or rollback.
constexpr int wal_write_lock_slot = 0;
// The most the unix VFS writes in one xWrite: os_unix.c's seekAndWriteFd masks the length with
// 0x1ffff, and unixWrite reports the part it then did not write as SQLITE_FULL. A longer
// write-out goes in pieces of this size.
constexpr size_t unix_write_bytes_max = 0x1ffff;

struct Counts {
  std::atomic<int64_t> commit_writes{0};
  std::atomic<int64_t> buffered_writes{0};
  std::atomic<int64_t> direct_writes{0};
  std::atomic<int64_t> unlock_write_outs{0};
  std::atomic<int64_t> barrier_write_outs{0};
};
Counts counts;

void count(std::atomic<int64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

sqlite3_vfs* unix_vfs = nullptr;  // Set once by install_wal_vfs(), before the VFS is registered.
sqlite3_vfs wal_vfs{};

struct WalFile;

// A database file: the unix VFS's file, passed through, plus its connection's WAL.
struct DbFile {
  sqlite3_file base;
  sqlite3_file* real;
  WalFile* wal;  // Null while the connection has no WAL open.
};

// A -wal file: the unix VFS's file and the buffer of frames not yet written to it.
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
  DbFile* db;       // Null: not tied to its database file, so never buffered (point 3).
  char* buffer;     // wal_buffer_bytes_max bytes, allocated at the first buffered write.
  size_t buffered;  // Bytes in the buffer, which belong at [start, start + buffered).
  sqlite3_int64 start;
  sqlite3_int64 page_at;  // Where the page of the last buffered frame header goes, or -1.
  bool commit_frame;      // That header is a commit frame's.
};

// Our part of an sqlite3_file comes first, the unix VFS's after it, aligned.
constexpr size_t ours_bytes =
    ((sizeof(DbFile) > sizeof(WalFile) ? sizeof(DbFile) : sizeof(WalFile)) + 15) & ~size_t{15};

sqlite3_file* real_part(sqlite3_file* file) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + ours_bytes);
}

DbFile* as_db(sqlite3_file* file) { return reinterpret_cast<DbFile*>(file); }
WalFile* as_wal(sqlite3_file* file) { return reinterpret_cast<WalFile*>(file); }

uint32_t read_be32(const void* bytes) {
  const auto* b = static_cast<const unsigned char*>(bytes);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

// Writes the buffer out (point 1), in pieces the unix VFS takes whole. The buffer is empty
// afterwards whatever happened: a failed write-out fails the commit, whose frames nobody will read.
int write_out(WalFile* wal) {
  wal->page_at = -1;
  wal->commit_frame = false;
  size_t written = 0;
  int rc = SQLITE_OK;
  while (written < wal->buffered && rc == SQLITE_OK) {
    const size_t piece = std::min(wal->buffered - written, unix_write_bytes_max);
    rc = wal->real->pMethods->xWrite(wal->real, wal->buffer + written, static_cast<int>(piece),
                                     wal->start + static_cast<sqlite3_int64>(written));
    written += piece;
  }
  wal->buffered = 0;
  return rc;
}

bool append(WalFile* wal, const void* data, int amount, sqlite3_int64 offset) {
  if (wal->buffered + static_cast<size_t>(amount) > wal_buffer_bytes_max) return false;
  if (wal->buffer == nullptr) {
    wal->buffer = static_cast<char*>(sqlite3_malloc64(wal_buffer_bytes_max));
    if (wal->buffer == nullptr) return false;
  }
  if (wal->buffered == 0) wal->start = offset;
  CREBITO_ASSERT(offset == wal->start + static_cast<sqlite3_int64>(wal->buffered));
  std::memcpy(wal->buffer + wal->buffered, data, static_cast<size_t>(amount));
  wal->buffered += static_cast<size_t>(amount);
  count(counts.buffered_writes);
  return true;
}

// --- The WAL file's methods ---

int wal_close(sqlite3_file* file) {
  WalFile* wal = as_wal(file);
  const int written = write_out(wal);
  const int closed = wal->real->pMethods->xClose(wal->real);
  if (wal->db != nullptr) wal->db->wal = nullptr;
  sqlite3_free(wal->buffer);
  wal->buffer = nullptr;
  return written != SQLITE_OK ? written : closed;
}

int wal_read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  WalFile* wal = as_wal(file);
  if (wal->buffered > 0 && offset < wal->start + static_cast<sqlite3_int64>(wal->buffered) &&
      offset + amount > wal->start) {
    const int rc = write_out(wal);
    if (rc != SQLITE_OK) return rc;
  }
  return wal->real->pMethods->xRead(wal->real, data, amount, offset);
}

int wal_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* wal = as_wal(file);
  if (wal->db != nullptr) {
    const sqlite3_int64 end = wal->start + static_cast<sqlite3_int64>(wal->buffered);
    // The page of the frame whose header was buffered last.
    if (wal->page_at >= 0 && offset == wal->page_at && offset == end &&
        append(wal, data, amount, offset)) {
      const bool commit = wal->commit_frame;
      wal->page_at = -1;
      wal->commit_frame = false;
      if (!commit) return SQLITE_OK;
      count(counts.commit_writes);
      return write_out(wal);  // Point 2: the commit frame is complete.
    }
    // A frame header.
    if (amount == frame_header_bytes && offset >= wal_header_bytes) {
      const bool commit = read_be32(static_cast<const char*>(data) + 4) != 0;
      const bool follows = wal->buffered > 0 && wal->page_at < 0 && offset == end &&
                           wal->buffered + static_cast<size_t>(amount) <= wal_buffer_bytes_max;
      if (!follows) {
        const int rc = write_out(wal);
        if (rc != SQLITE_OK) return rc;
      }
      if ((follows || !commit) && append(wal, data, amount, offset)) {
        wal->page_at = offset + frame_header_bytes;
        wal->commit_frame = commit;
        return SQLITE_OK;
      }
    }
  }
  // Anything still buffered goes first (also when the database file let go of this WAL first).
  const int rc = write_out(wal);
  if (rc != SQLITE_OK) return rc;
  count(counts.direct_writes);
  return wal->real->pMethods->xWrite(wal->real, data, amount, offset);
}

int wal_truncate(sqlite3_file* file, sqlite3_int64 size) {
  WalFile* wal = as_wal(file);
  const int rc = write_out(wal);
  if (rc != SQLITE_OK) return rc;
  return wal->real->pMethods->xTruncate(wal->real, size);
}

int wal_sync(sqlite3_file* file, int flags) {
  WalFile* wal = as_wal(file);
  const int rc = write_out(wal);
  if (rc != SQLITE_OK) return rc;
  return wal->real->pMethods->xSync(wal->real, flags);
}

int wal_file_size(sqlite3_file* file, sqlite3_int64* size) {
  WalFile* wal = as_wal(file);
  const int rc = write_out(wal);
  if (rc != SQLITE_OK) return rc;
  return wal->real->pMethods->xFileSize(wal->real, size);
}

int wal_lock(sqlite3_file* file, int level) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xLock(real, level);
}

int wal_unlock(sqlite3_file* file, int level) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xUnlock(real, level);
}

int wal_check_reserved_lock(sqlite3_file* file, int* out) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xCheckReservedLock(real, out);
}

int wal_file_control(sqlite3_file* file, int op, void* arg) {
  WalFile* wal = as_wal(file);
  const int rc = write_out(wal);
  if (rc != SQLITE_OK) return rc;
  return wal->real->pMethods->xFileControl(wal->real, op, arg);
}

int wal_sector_size(sqlite3_file* file) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xSectorSize(real);
}

int wal_device_characteristics(sqlite3_file* file) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xDeviceCharacteristics(real);
}

// SQLite maps no part of a WAL file and keeps its wal-index with the database file; these exist
// because the methods' version says so, and pass through.
int wal_shm_map(sqlite3_file* file, int page, int page_bytes, int extend, void volatile** out) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xShmMap(real, page, page_bytes, extend, out);
}

int wal_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xShmLock(real, offset, n, flags);
}

void wal_shm_barrier(sqlite3_file* file) {
  sqlite3_file* real = as_wal(file)->real;
  real->pMethods->xShmBarrier(real);
}

int wal_shm_unmap(sqlite3_file* file, int delete_flag) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xShmUnmap(real, delete_flag);
}

int wal_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  WalFile* wal = as_wal(file);
  const int rc = write_out(wal);
  if (rc != SQLITE_OK) return rc;
  return wal->real->pMethods->xFetch(wal->real, offset, amount, out);
}

int wal_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  sqlite3_file* real = as_wal(file)->real;
  return real->pMethods->xUnfetch(real, offset, page);
}

const sqlite3_io_methods wal_methods = {
    3,
    wal_close,
    wal_read,
    wal_write,
    wal_truncate,
    wal_sync,
    wal_file_size,
    wal_lock,
    wal_unlock,
    wal_check_reserved_lock,
    wal_file_control,
    wal_sector_size,
    wal_device_characteristics,
    wal_shm_map,
    wal_shm_lock,
    wal_shm_barrier,
    wal_shm_unmap,
    wal_fetch,
    wal_unfetch,
};

// --- The database file's methods: passed through, but for point 3 ---

int db_close(sqlite3_file* file) {
  DbFile* db = as_db(file);
  if (db->wal != nullptr) db->wal->db = nullptr;  // SQLite closes the WAL first; just in case.
  return db->real->pMethods->xClose(db->real);
}

int db_read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xRead(real, data, amount, offset);
}

int db_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xWrite(real, data, amount, offset);
}

int db_truncate(sqlite3_file* file, sqlite3_int64 size) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xTruncate(real, size);
}

int db_sync(sqlite3_file* file, int flags) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xSync(real, flags);
}

int db_file_size(sqlite3_file* file, sqlite3_int64* size) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xFileSize(real, size);
}

int db_lock(sqlite3_file* file, int level) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xLock(real, level);
}

int db_unlock(sqlite3_file* file, int level) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xUnlock(real, level);
}

int db_check_reserved_lock(sqlite3_file* file, int* out) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xCheckReservedLock(real, out);
}

int db_file_control(sqlite3_file* file, int op, void* arg) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xFileControl(real, op, arg);
}

int db_sector_size(sqlite3_file* file) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xSectorSize(real);
}

int db_device_characteristics(sqlite3_file* file) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xDeviceCharacteristics(real);
}

int db_shm_map(sqlite3_file* file, int page, int page_bytes, int extend, void volatile** out) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xShmMap(real, page, page_bytes, extend, out);
}

int db_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  DbFile* db = as_db(file);
  if ((flags & SQLITE_SHM_UNLOCK) != 0 && offset <= wal_write_lock_slot &&
      wal_write_lock_slot < offset + n && db->wal != nullptr && db->wal->buffered > 0) {
    // Point 3: frames of a transaction that did not commit; nobody reads them, and no write lock
    // is left to fail.
    count(counts.unlock_write_outs);
    (void)write_out(db->wal);
  }
  return db->real->pMethods->xShmLock(db->real, offset, n, flags);
}

void db_shm_barrier(sqlite3_file* file) {
  DbFile* db = as_db(file);
  if (db->wal != nullptr && db->wal->buffered > 0) {
    count(counts.barrier_write_outs);
    (void)write_out(db->wal);
  }
  db->real->pMethods->xShmBarrier(db->real);
}

int db_shm_unmap(sqlite3_file* file, int delete_flag) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xShmUnmap(real, delete_flag);
}

int db_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xFetch(real, offset, amount, out);
}

int db_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  sqlite3_file* real = as_db(file)->real;
  return real->pMethods->xUnfetch(real, offset, page);
}

const sqlite3_io_methods db_methods = {
    3,
    db_close,
    db_read,
    db_write,
    db_truncate,
    db_sync,
    db_file_size,
    db_lock,
    db_unlock,
    db_check_reserved_lock,
    db_file_control,
    db_sector_size,
    db_device_characteristics,
    db_shm_map,
    db_shm_lock,
    db_shm_barrier,
    db_shm_unmap,
    db_fetch,
    db_unfetch,
};

// --- The VFS: opens wrap the database and WAL files; everything else is the unix VFS's ---

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  const bool main_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
  const bool wal_file = (flags & SQLITE_OPEN_WAL) != 0;
  if (!main_db && !wal_file) return unix_vfs->xOpen(unix_vfs, name, file, flags, out_flags);
  sqlite3_file* real = real_part(file);
  std::memset(static_cast<void*>(file), 0, ours_bytes);
  const int rc = unix_vfs->xOpen(unix_vfs, name, real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;  // file->pMethods stays null: SQLite will not close it.
  if (main_db) {
    DbFile* db = as_db(file);
    db->real = real;
    db->wal = nullptr;
    db->base.pMethods = &db_methods;
    return SQLITE_OK;
  }
  WalFile* wal = as_wal(file);
  wal->real = real;
  wal->page_at = -1;
  sqlite3_file* database = name != nullptr ? sqlite3_database_file_object(name) : nullptr;
  if (database != nullptr && database->pMethods == &db_methods && as_db(database)->wal == nullptr) {
    wal->db = as_db(database);
    wal->db->wal = wal;
  }
  wal->base.pMethods = &wal_methods;
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

int vfs_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

int vfs_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return unix_vfs->xFullPathname(unix_vfs, name, size, out);
}

void* vfs_dl_open(sqlite3_vfs*, const char* name) { return unix_vfs->xDlOpen(unix_vfs, name); }

void vfs_dl_error(sqlite3_vfs*, int size, char* out) { unix_vfs->xDlError(unix_vfs, size, out); }

void (*vfs_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return unix_vfs->xDlSym(unix_vfs, handle, symbol);
}

void vfs_dl_close(sqlite3_vfs*, void* handle) { unix_vfs->xDlClose(unix_vfs, handle); }

int vfs_randomness(sqlite3_vfs*, int size, char* out) {
  return unix_vfs->xRandomness(unix_vfs, size, out);
}

int vfs_sleep(sqlite3_vfs*, int microseconds) { return unix_vfs->xSleep(unix_vfs, microseconds); }

int vfs_current_time(sqlite3_vfs*, double* out) { return unix_vfs->xCurrentTime(unix_vfs, out); }

int vfs_get_last_error(sqlite3_vfs*, int size, char* out) {
  return unix_vfs->xGetLastError(unix_vfs, size, out);
}

int vfs_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return unix_vfs->xCurrentTimeInt64(unix_vfs, out);
}

int vfs_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr call) {
  return unix_vfs->xSetSystemCall(unix_vfs, name, call);
}

sqlite3_syscall_ptr vfs_get_system_call(sqlite3_vfs*, const char* name) {
  return unix_vfs->xGetSystemCall(unix_vfs, name);
}

const char* vfs_next_system_call(sqlite3_vfs*, const char* name) {
  return unix_vfs->xNextSystemCall(unix_vfs, name);
}

bool disabled_by_environment() {
  const char* setting = std::getenv("CREBITO_WAL_VFS");
  return setting != nullptr && (std::strcmp(setting, "off") == 0 || std::strcmp(setting, "0") == 0);
}

}  // namespace

bool install_wal_vfs() {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] {
    if (disabled_by_environment()) return;
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    // Over the unix VFS only, the one whose files and calls the design notes describe.
    if (base == nullptr || std::strcmp(base->zName, "unix") != 0 || base->iVersion < 3) return;
    unix_vfs = base;
    wal_vfs.iVersion = 3;
    wal_vfs.szOsFile = static_cast<int>(ours_bytes) + base->szOsFile;
    wal_vfs.mxPathname = base->mxPathname;
    wal_vfs.zName = wal_vfs_name;
    wal_vfs.xOpen = vfs_open;
    wal_vfs.xDelete = vfs_delete;
    wal_vfs.xAccess = vfs_access;
    wal_vfs.xFullPathname = vfs_full_pathname;
    wal_vfs.xDlOpen = vfs_dl_open;
    wal_vfs.xDlError = vfs_dl_error;
    wal_vfs.xDlSym = vfs_dl_sym;
    wal_vfs.xDlClose = vfs_dl_close;
    wal_vfs.xRandomness = vfs_randomness;
    wal_vfs.xSleep = vfs_sleep;
    wal_vfs.xCurrentTime = vfs_current_time;
    wal_vfs.xGetLastError = vfs_get_last_error;
    wal_vfs.xCurrentTimeInt64 = vfs_current_time_int64;
    wal_vfs.xSetSystemCall = vfs_set_system_call;
    wal_vfs.xGetSystemCall = vfs_get_system_call;
    wal_vfs.xNextSystemCall = vfs_next_system_call;
    installed = sqlite3_vfs_register(&wal_vfs, /*makeDflt=*/1) == SQLITE_OK;
  });
  return installed;
}

WalVfsCounts wal_vfs_counts() {
  WalVfsCounts out;
  out.commit_writes = counts.commit_writes.load(std::memory_order_relaxed);
  out.buffered_writes = counts.buffered_writes.load(std::memory_order_relaxed);
  out.direct_writes = counts.direct_writes.load(std::memory_order_relaxed);
  out.unlock_write_outs = counts.unlock_write_outs.load(std::memory_order_relaxed);
  out.barrier_write_outs = counts.barrier_write_outs.load(std::memory_order_relaxed);
  return out;
}

}  // namespace store
