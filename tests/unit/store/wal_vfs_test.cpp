// The WAL VFS (src/store/sqlite/wal_vfs.h) against real files, with SQLite's own unix VFS on the
// other side, the way an operator's sqlite3 shell or a build without the VFS shares the file:
//   - a commit of several frames is one write, and the other connection sees each commit at once;
//     WAL restarts and truncations on the way;
//   - a copy of the database and its WAL, opened without the wal-index (SQLite rebuilds it from
//     the WAL file alone, checking every frame's checksum), holds every commit: what is in the
//     file is complete, not just what the shared memory says;
//   - frames of a transaction that spilled and rolled back never land over another writer's
//     commit; a transaction that rewrites frames it spilled commits with its checksums rewritten;
//   - a commit larger than the unix VFS writes in one call (0x1ffff bytes) goes out whole;
//   - a write-out that fails fails the commit, which nobody then sees;
//   - a writer process killed with SIGKILL loses none of the commits it reported.
#include "store/sqlite/wal_vfs.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

// An open connection; vfs nullptr is the process's default (the WAL VFS once installed).
class Db {
 public:
  Db(const std::string& path, const char* vfs) {
    const int rc = sqlite3_open_v2(
        path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    REQUIRE(rc == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
    REQUIRE(exec("PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;") == SQLITE_OK);
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* value = sqlite3_column_text(statement, 0);
      if (value != nullptr) out = reinterpret_cast<const char*>(value);
    }
    sqlite3_finalize(statement);
    return out;
  }
  long number(const std::string& sql) { return std::stol(text(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

std::string prepared(const TempDir& dir) {
  REQUIRE(store::install_wal_vfs());
  const std::string path = dir.file("wal.db");
  Db db(path, "unix");
  REQUIRE(db.exec("PRAGMA journal_mode = WAL;") == SQLITE_OK);
  REQUIRE(db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT NOT NULL);"
                  "CREATE INDEX t_pad ON t (pad);"
                  "CREATE TABLE u (id INTEGER PRIMARY KEY, pad TEXT NOT NULL);") == SQLITE_OK);
  return path;
}

// A prepared file, with the WAL VFS as the process's default (CREBITO_WAL_VFS unset).
struct WalFile {
  const bool vfs_default = unsetenv("CREBITO_WAL_VFS") == 0;
  TempDir dir;
  const std::string path = prepared(dir);
};

// ...and a writer on the WAL VFS beside a reader on the unix one.
struct WriterReader : WalFile {
  Db writer{path, nullptr};
  Db reader{path, "unix"};
};

// Rows of `bytes` random characters: a few of them fill several pages of the table and its index.
std::string insert(long first, int rows, int bytes, const char* table = "t") {
  std::string sql;
  for (int i = 0; i < rows; ++i) {
    sql += std::string("INSERT INTO ") + table + " VALUES (" + std::to_string(first + i) +
           ", substr(hex(randomblob(" + std::to_string(bytes) + ")), 1, " + std::to_string(bytes) +
           "));";
  }
  return sql;
}

// What SQLite rebuilds from the database and WAL files alone (no -shm): copied while `path` is
// open, then opened on the unix VFS, which recovers the wal-index by reading every frame.
// A process killed between writing a commit's frames and publishing it in the wal-index leaves
// a commit the files hold and the live connections never saw: up to rows_unpublished_max more.
void check_recovered(const TempDir& dir, const std::string& path, long rows,
                     long rows_unpublished_max = 0) {
  const std::string copy = dir.file("copy.db");
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(copy + suffix, ignored);
  fs::copy_file(path, copy);
  if (fs::exists(path + "-wal")) fs::copy_file(path + "-wal", copy + "-wal");
  Db recovered(copy, "unix");
  CHECK(recovered.text("PRAGMA integrity_check") == "ok");
  const long recovered_rows = recovered.number("SELECT count(*) FROM t");
  CHECK(recovered_rows >= rows);
  CHECK(recovered_rows <= rows + rows_unpublished_max);
}

// The reader on the unix VFS sees `rows` in a whole file, and so does what SQLite recovers from
// the files alone.
void check_seen(WriterReader& files, long rows) {
  CHECK(files.reader.number("SELECT count(*) FROM t") == rows);
  CHECK(files.reader.text("PRAGMA integrity_check") == "ok");
  check_recovered(files.dir, files.path, rows);
}

}  // namespace

TEST_CASE_METHOD(WriterReader,
                 "wal vfs: a commit is one write, seen at once by a connection on the unix VFS",
                 "[wal_vfs]") {
  // A small limit: the writer that starts the WAL over truncates it.
  REQUIRE(writer.exec("PRAGMA journal_size_limit = 65536;") == SQLITE_OK);
  const store::WalVfsCounts before = store::wal_vfs_counts();
  constexpr int commits = 300;
  long rows = 0;
  for (int commit = 1; commit <= commits; ++commit) {
    REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(rows, 3, 300) + "COMMIT;") == SQLITE_OK);
    rows += 3;
    REQUIRE(reader.number("SELECT count(*) FROM t") == rows);
    // Checkpoints let the writer start the WAL over (header at offset 0, then a sync).
    if (commit % 50 == 0) REQUIRE(reader.exec("PRAGMA wal_checkpoint(PASSIVE);") == SQLITE_OK);
    if (commit % 100 == 0) check_recovered(dir, path, rows);
  }
  const store::WalVfsCounts after = store::wal_vfs_counts();
  CHECK(after.commit_writes - before.commit_writes == commits);
  CHECK(after.barrier_write_outs == before.barrier_write_outs);
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
  // The reader's VFS really was the unix one, the writer's ours.
  check_recovered(dir, path, rows);
}

TEST_CASE_METHOD(WriterReader,
                 "wal vfs: spilled frames of a rolled-back transaction never overwrite a commit",
                 "[wal_vfs]") {
  REQUIRE(writer.exec("PRAGMA cache_size = 10;") == SQLITE_OK);  // Pages: it spills soon.
  long rows = 0;
  REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(rows, 3, 300) + "COMMIT;") == SQLITE_OK);
  rows += 3;
  for (int round = 0; round < 5; ++round) {
    const store::WalVfsCounts before = store::wal_vfs_counts();
    // Rows in id order into a table without an index: the pages it spills are never read again,
    // so their frames are still buffered at the rollback.
    REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(0, 400, 300, "u")) == SQLITE_OK);
    REQUIRE(writer.exec("ROLLBACK;") == SQLITE_OK);
    CHECK(store::wal_vfs_counts().unlock_write_outs > before.unlock_write_outs);
    // The other writer reuses the frames' place in the WAL.
    for (int commit = 0; commit < 10; ++commit) {
      REQUIRE(reader.exec("BEGIN IMMEDIATE;" + insert(rows, 2, 300) + "COMMIT;") == SQLITE_OK);
      rows += 2;
    }
    REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(rows, 2, 300) + "COMMIT;") == SQLITE_OK);
    rows += 2;
    REQUIRE(reader.number("SELECT count(*) FROM t") == rows);
    REQUIRE(writer.number("SELECT count(*) FROM t") == rows);
  }
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
  check_recovered(dir, path, rows);
}

TEST_CASE_METHOD(WriterReader,
                 "wal vfs: a transaction that rewrites frames it spilled commits whole",
                 "[wal_vfs]") {
  REQUIRE(writer.exec("PRAGMA cache_size = 10;") == SQLITE_OK);
  // Spilled pages dirtied again are rewritten in place at the commit, and the checksums of every
  // frame from the first rewritten one to the commit frame are written again (walRewriteChecksums).
  REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(0, 400, 300) +
                      "UPDATE t SET pad = lower(pad) WHERE id % 7 = 0;" + insert(400, 1, 300) +
                      "COMMIT;") == SQLITE_OK);
  CHECK(reader.number("SELECT count(*) FROM t WHERE pad = lower(pad) AND id % 7 = 0") > 0);
  check_seen(*this, 401);
}

TEST_CASE_METHOD(WriterReader,
                 "wal vfs: a commit larger than the unix VFS writes at once commits whole",
                 "[wal_vfs]") {
  // ~1 MiB of rows with their index in one commit, and then deleted in one: each fills the
  // buffer (64 frames, more than 0x1ffff bytes) many times over, as a purge of the payments does.
  const store::WalVfsCounts before = store::wal_vfs_counts();
  REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(0, 500, 1000) + "COMMIT;") == SQLITE_OK);
  CHECK(store::wal_vfs_counts().buffered_writes > before.buffered_writes);
  check_seen(*this, 500);
  REQUIRE(writer.exec("DELETE FROM t;") == SQLITE_OK);
  check_seen(*this, 0);
}

TEST_CASE_METHOD(WriterReader,
                 "wal vfs: a write-out that fails fails its commit, and nobody sees it",
                 "[wal_vfs]") {
  REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(0, 3, 300) + "COMMIT;") == SQLITE_OK);
  const auto wal_bytes = static_cast<rlim_t>(fs::file_size(path + "-wal"));
  // Past this size the kernel refuses writes (EFBIG, SIGXFSZ ignored): the commit's frames, all
  // in one write-out at its end, do not fit.
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  signal(SIGXFSZ, SIG_IGN);
  rlimit tight = saved;
  tight.rlim_cur = wal_bytes + 6000;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &tight) == 0);
  const store::WalVfsCounts before = store::wal_vfs_counts();
  const int rc = writer.exec("BEGIN IMMEDIATE;" + insert(3, 3, 1500) + "COMMIT;");
  REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
  signal(SIGXFSZ, SIG_DFL);
  CHECK(rc != SQLITE_OK);
  CHECK(store::wal_vfs_counts().commit_writes == before.commit_writes + 1);
  writer.exec("ROLLBACK;");
  CHECK(reader.number("SELECT count(*) FROM t") == 3);
  CHECK(writer.number("SELECT count(*) FROM t") == 3);
  REQUIRE(writer.exec("BEGIN IMMEDIATE;" + insert(3, 3, 1500) + "COMMIT;") == SQLITE_OK);
  check_seen(*this, 6);
}

TEST_CASE_METHOD(WalFile,
                 "wal vfs: a writer process killed with SIGKILL loses no commit it reported",
                 "[wal_vfs]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(fds[0]);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) _exit(1);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;", nullptr,
                 nullptr, nullptr);
    for (long id = 1'000'000;; id += 2) {
      const std::string sql = "BEGIN IMMEDIATE;" + insert(id, 2, 300) + "COMMIT;";
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK;", nullptr, nullptr, nullptr);
        continue;
      }
      if (write(fds[1], &id, sizeof id) != sizeof id) _exit(1);
    }
  }
  close(fds[1]);
  // This process writes too, on the unix VFS, and checkpoints now and then.
  Db other(path, "unix");
  long reported = 0;
  long last = 0;
  long own = 0;
  while (reported < 400) {
    long id = 0;
    REQUIRE(read(fds[0], &id, sizeof id) == sizeof id);
    last = id;
    ++reported;
    if (reported % 4 == 0) {
      REQUIRE(other.exec("BEGIN IMMEDIATE;" + insert(own, 1, 300) + "COMMIT;") == SQLITE_OK);
      ++own;
    }
    if (reported % 100 == 0) REQUIRE(other.exec("PRAGMA wal_checkpoint(PASSIVE);") == SQLITE_OK);
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // The commits it reported that this process had not read yet.
  for (long id = 0; read(fds[0], &id, sizeof id) == sizeof id;) {
    last = id;
    ++reported;
  }
  close(fds[0]);
  CHECK(WIFSIGNALED(status));
  // Every reported commit (ids up to `last`, two rows each) is there; one more may be.
  const long child_rows = other.number("SELECT count(*) FROM t WHERE id >= 1000000");
  CHECK(child_rows >= 2 * reported);
  CHECK(child_rows <= 2 * reported + 2);
  CHECK(other.number("SELECT count(*) FROM t WHERE id >= 1000000 AND id <= " +
                     std::to_string(last + 1)) == 2 * reported);
  CHECK(other.number("SELECT count(*) FROM t WHERE id < 1000000") == own);
  CHECK(other.text("PRAGMA integrity_check") == "ok");
  // The child's last commit may be in the WAL file, written, and not yet in the wal-index it was
  // about to publish it in when it was killed: the live view above leaves it out, recovery not.
  check_recovered(dir, path, child_rows + own, /*rows_unpublished_max=*/2);
}
