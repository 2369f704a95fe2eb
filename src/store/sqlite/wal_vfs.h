// The WAL VFS: one write per commit for SQLite's write-ahead log.
//
// SQLite writes a WAL frame in two pwrite()s (its 24-byte header, then the page), so a commit of
// ~8.5 frames costs ~17 system calls. This VFS, registered over the unix VFS as the process's
// default, keeps the frames a connection appends to its -wal file in a buffer of its own and writes
// them out with one write when the commit frame is complete. Every other file, all locking and
// the shared-memory wal-index are the unix VFS's own, untouched; the file format is SQLite's, so
// another process (the other instance, an operator's sqlite3 shell on the default VFS) shares the
// file as before.
//
// Design notes — why the buffer never hides a commit from anyone:
//   1. What the file holds at every point where anyone can look is what it would hold without
//      the buffer: buffered writes go out in the order SQLite made them, and before any read of a
//      buffered range, sync, size query, truncation, file control or close. A write that does not
//      extend the buffer (the WAL header at a restart, a page rewritten in place, a checksum
//      rewritten after the commit frame) writes the buffer out first, then itself.
//   2. A commit becomes visible to other connections only when SQLite writes the wal-index header
//      in shared memory (wal.c, walIndexWriteHdr), after the last frame of the commit. No WAL file
//      call comes between the two, so the buffer is written out by the write that completes the
//      commit frame, the only frame whose header carries a database size (bytes 4-7): the page
//      write that follows such a header ends the commit, and a failed write-out fails that write,
//      so the commit fails (I/O error, disk full) and nothing is published. A commit frame's
//      header is buffered only behind frames of the same commit; otherwise (a one-frame commit, a
//      header rewritten by walRewriteChecksums) it is written at once.
//   3. Frames written for a transaction that is later rolled back (a cache spill) must not be
//      written out after another writer has reused their place in the file. SQLite releases the
//      WAL write lock (wal-index lock slot 0) before any other writer may write; the database
//      file's xShmLock writes the buffer of its connection's WAL out before that release. Its
//      xShmBarrier does so too, as a second line (it cannot report an error; by (2) the buffer is
//      empty there whenever a commit is published).
//   4. Nothing is acknowledged before SQLite's commit returns, and by then the commit's frames are
//      in the file (the kernel's page cache): a kill -9 of either process loses nothing it
//      answered, and an OS crash loses what it lost before (synchronous=NORMAL: the commits since
//      the WAL's last sync at a checkpoint). Syncs are SQLite's, unchanged.
//
// The database file's sqlite3_file is wrapped too (all calls passed through) only to find its WAL
// (sqlite3_database_file_object) and for (3). A WAL file that cannot be tied to its database file
// is not buffered.
//
// CREBITO_WAL_VFS=off in the environment leaves SQLite's default VFS in place (to measure the
// difference, or to rule this layer out).
#pragma once

#include <cstddef>
#include <cstdint>

namespace store {

inline constexpr char wal_vfs_name[] = "crebito-wal";

// A connection's WAL buffer holds at most this many bytes (64 frames of 4 KiB pages; a turn of
// limits::write_batch_max postings writes ~30); a commit that does not fit is written in several
// writes, still before it is published. A buffer larger than the unix VFS takes in one write
// (128 KiB less a byte) goes out in two.
inline constexpr size_t wal_buffer_bytes_max = 64 * (4096 + 24);

// Registers the WAL VFS as the process's default VFS, unless CREBITO_WAL_VFS is "off" or "0".
// Call before the process opens any database (connections opened before keep their VFS). Safe to
// call more than once. Returns whether the WAL VFS is the default now.
bool install_wal_vfs();

// Process-wide counts, for tests and measurements.
struct WalVfsCounts {
  int64_t commit_writes = 0;       // Write-outs at the end of a commit frame (point 2).
  int64_t buffered_writes = 0;     // SQLite writes kept in a buffer.
  int64_t direct_writes = 0;       // SQLite writes passed straight to the file (point 1, 2).
  int64_t unlock_write_outs = 0;   // Buffers written out at the WAL write lock's release (point 3).
  int64_t barrier_write_outs = 0;  // Buffers written out at a memory barrier (point 3).
};
WalVfsCounts wal_vfs_counts();

}  // namespace store
