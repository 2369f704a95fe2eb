// Storage faults under a running stack, with the data directory on a small tmpfs of its own:
//   - disk full: writes answer 503 and write nothing, reads still answer, each instance logs one
//     line when writes start failing and one when they work again, and serves again by itself
//     once space is freed;
//   - the data directory removed while running: every database route answers 503 (nothing goes
//     into the unlinked file), one line per kind of operation in the log; a re-created empty
//     directory is not a recovery (no fresh ledger appears); a database restored onto a read-only
//     file system is refused; once it is writable the instances reopen it and serve again.
//
// These tests mount tmpfs file systems and need root; without it they fail, saying so.
// Why there is no "read-only remount under a running instance" case: Linux refuses to remount a
// file system read-only while a process has a file open for writing on it (EBUSY), and chmod does
// not affect open descriptors. A file system that turns read-only by itself (ext4
// errors=remount-ro) reaches SQLite as EROFS/EIO on write, the same path as disk full.
#include <SQLiteCpp/Database.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crebito_limits.h"
#include "reliability/ledger_check.h"
#include "support/api.h"
#include "support/stack.h"

namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr auto recovery_timeout = std::chrono::seconds(10);
constexpr int requests_while_faulty = 60;

void require_root() {
  if (::geteuid() != 0) {
    FAIL(
        "storage-fault tests mount tmpfs and need root; run as root (CI does), or leave them "
        "out with ctest -LE reliability");
  }
}

// A tmpfs of `bytes` mounted on a fresh directory; unmounted (lazily if still busy) and removed
// when destroyed.
class Tmpfs {
 public:
  Tmpfs(const std::string& where, size_t bytes) : path_(where) {
    fs::create_directories(path_);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      throw std::runtime_error("cannot mount a tmpfs on " + path_ + ": " + std::strerror(errno));
    }
  }
  ~Tmpfs() {
    if (::umount2(path_.c_str(), 0) != 0) ::umount2(path_.c_str(), MNT_DETACH);
    ::rmdir(path_.c_str());
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  void remount(bool read_only) {
    const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", flags, nullptr) != 0) {
      throw std::runtime_error("cannot remount " + path_ + ": " + std::strerror(errno));
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

size_t count_lines(const std::string& path, const std::string& needle) {
  std::ifstream file(path);
  size_t n = 0;
  for (std::string line; std::getline(file, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// Fills the file system holding `dir` until a write fails; returns the filler's path.
std::string fill(const std::string& dir) {
  const std::string filler = dir + "/filler";
  std::FILE* file = std::fopen(filler.c_str(), "wb");
  const std::string block(64 * 1024, 'x');
  while (std::fwrite(block.data(), 1, block.size(), file) == block.size()) {
  }
  std::fclose(file);
  return filler;
}

// One POST with a unique description, straight to an instance; recorded in `sent`.
int post_recorded(httplib::Client& client, std::vector<Sent>* sent, int sequence) {
  Sent s;
  s.description = unique_description('f', 0, sequence);
  s.account = 1 + sequence % 5;
  s.amount_cents = 1 + sequence % 97;
  s.kind = 'c';
  s.status = post_transaction(client, s.account, s.amount_cents, "c", s.description).status;
  sent->push_back(s);
  return s.status;
}

// Posts alternately to both instances until both answer 200; false after recovery_timeout.
bool wait_until_writable(Stack& stack, std::vector<Sent>* sent, int* sequence) {
  const auto deadline = std::chrono::steady_clock::now() + recovery_timeout;
  bool writable[2] = {false, false};
  while (!(writable[0] && writable[1])) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    for (int instance = 1; instance <= 2; ++instance) {
      writable[instance - 1] =
          post_recorded(*stack.instance_client(instance), sent, (*sequence)++) == 200;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return true;
}

// haproxy has both instances fully UP again (its runtime API says so).
bool wait_until_balanced(const Stack& stack) {
  return stack.wait_haproxy_status(1, "UP", recovery_timeout) &&
         stack.wait_haproxy_status(2, "UP", recovery_timeout);
}

// What `sent` did to the ledger: checked (ledger_check.h), printed under `name`.
void check_sent(const Stack& stack, const char* name, std::vector<Sent> sent) {
  Journal journal;
  journal.merge(std::move(sent));
  const LedgerCheck check = check_ledger(stack, journal);
  std::printf("%s: %zu requests, %zu answered 503, %s\n", name, journal.sent.size(),
              journal.count_status(503), check.describe().c_str());
  INFO(check.describe());
  CHECK(check.ok());
}

}  // namespace

TEST_CASE("a full disk gives 503 without a partial write, one log line, and heals by itself",
          "[reliability][storage]") {
  require_root();
  TempDir base;
  Tmpfs disk(base.file("disk"), 4 * 1024 * 1024);
  fs::create_directory(disk.path() + "/data");
  std::vector<Sent> sent;
  int sequence = 0;
  {
    Stack stack(Stack::Options{disk.path() + "/data", {}});
    for (int i = 0; i < 20; ++i) REQUIRE(post_recorded(*stack.client(), &sent, sequence++) == 200);

    const std::string filler = fill(disk.path());
    // The WAL may still have room in frames a checkpoint freed; keep writing until it runs out.
    int unavailable = 0;
    std::vector<int> unexpected;
    for (int i = 0; i < 4000 && unavailable < requests_while_faulty; ++i) {
      const int status = post_recorded(*stack.instance_client(1 + i % 2), &sent, sequence++);
      unavailable += status == 503;
      if (status != 200 && status != 503) unexpected.push_back(status);
    }
    CHECK(unavailable == requests_while_faulty);
    CHECK(unexpected.empty());
    // Reads need no space.
    CHECK(get_statement(*stack.instance_client(1), 1).status == 200);
    CHECK(stack.instance_client(2)->Get("/health")->status == 200);

    fs::remove(filler);
    CHECK(wait_until_writable(stack, &sent, &sequence));
    CHECK(wait_until_balanced(stack));
    // The fault is over once writes have worked for limits::fault_quiet_ms (the store's fault log
    // treats a full disk that comes and goes as one episode); the writes below end it. The rule
    // under test is a span of time, so this pause is the scenario, not a wait for a state.
    std::this_thread::sleep_for(milliseconds(2 * limits::fault_quiet_ms));
    for (int i = 0; i < 10; ++i) CHECK(post_recorded(*stack.client(), &sent, sequence++) == 200);

    for (const char* name : {"api01", "api02"}) {
      INFO(name);
      CHECK(count_lines(stack.log_path(name), "database writes failing") <= 1);
      CHECK(count_lines(stack.log_path(name), "database writes work again") ==
            count_lines(stack.log_path(name), "database writes failing"));
      CHECK(count_lines(stack.log_path(name), "answering 503:") == 0);  // No line per request.
    }
    CHECK(count_lines(stack.log_path("api01"), "database writes failing") +
              count_lines(stack.log_path("api02"), "database writes failing") >=
          1);

    check_sent(stack, "disk full", std::move(sent));
  }
}

TEST_CASE("a removed data directory gives 503 until a writable ledger is put back",
          "[reliability][storage]") {
  require_root();
  TempDir base;
  Tmpfs disk(base.file("disk"), 16 * 1024 * 1024);
  const std::string data_dir = disk.path() + "/data";
  fs::create_directory(data_dir);
  std::vector<Sent> sent;
  int sequence = 0;
  std::unique_ptr<Tmpfs> restored;
  {
    Stack stack(Stack::Options{data_dir, {}});
    for (int i = 0; i < 20; ++i) REQUIRE(post_recorded(*stack.client(), &sent, sequence++) == 200);
    // The operator's backup, taken while nothing writes: every acknowledged transaction is in it.
    const std::string backup = base.file("backup.db");
    {
      SQLite::Database db(stack.db_path());
      db.exec("VACUUM INTO '" + backup + "'");
    }
    {
      SQLite::Database db(backup, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA journal_mode = WAL");
    }

    fs::remove_all(data_dir);
    for (int i = 0; i < requests_while_faulty; ++i) {
      const int instance = 1 + i % 2;
      CHECK(post_recorded(*stack.instance_client(instance), &sent, sequence++) == 503);
      CHECK(get_statement(*stack.instance_client(instance), 1 + i % 5).status == 503);
    }
    CHECK(stack.instance_client(1)->Get("/health")->status == 503);
    CHECK(post_recorded(*stack.client(), &sent, sequence++) == 503);  // haproxy too.

    // An empty directory where the ledger was is still a fault: nothing is created in it. The
    // requests are spread over a second, so that the instances try to reopen the database
    // (every limits::store_reopen_interval_ms) several times meanwhile: the pauses are the
    // scenario.
    static_assert(10 * 100 >= 4 * limits::store_reopen_interval_ms);
    fs::create_directory(data_dir);
    for (int i = 0; i < 10; ++i) {
      CHECK(post_recorded(*stack.instance_client(1 + i % 2), &sent, sequence++) == 503);
      std::this_thread::sleep_for(milliseconds(100));
    }
    CHECK(fs::is_empty(data_dir));

    // The ledger comes back on a file system that is read-only: still refused.
    restored = std::make_unique<Tmpfs>(data_dir, 16 * 1024 * 1024);
    fs::copy_file(backup, data_dir + "/crebito.db");
    restored->remount(true);
    for (int i = 0; i < 10; ++i) {  // Spread over a second, as above.
      CHECK(post_recorded(*stack.instance_client(1 + i % 2), &sent, sequence++) == 503);
      std::this_thread::sleep_for(milliseconds(100));
    }

    // Writable: both instances reopen it by themselves.
    restored->remount(false);
    CHECK(wait_until_writable(stack, &sent, &sequence));
    CHECK(wait_until_balanced(stack));
    // The fault is over once writes have worked for limits::fault_quiet_ms; the writes below end
    // it on both instances (a span of time is the rule under test: a pause, not a wait).
    std::this_thread::sleep_for(milliseconds(2 * limits::fault_quiet_ms));
    for (int i = 0; i < 10; ++i) {
      CHECK(post_recorded(*stack.instance_client(1 + i % 2), &sent, sequence++) == 200);
    }
    CHECK(post_recorded(*stack.client(), &sent, sequence++) == 200);

    for (const char* name : {"api01", "api02"}) {
      INFO(name);
      std::ifstream log_file(stack.log_path(name));
      INFO(std::string(std::istreambuf_iterator<char>(log_file), {}));
      CHECK(count_lines(stack.log_path(name), "database writes failing") == 1);
      CHECK(count_lines(stack.log_path(name), "database reads failing") == 1);
      CHECK(count_lines(stack.log_path(name), "database writes work again") == 1);
      CHECK(count_lines(stack.log_path(name), "was removed or replaced while open") == 2);
    }

    check_sent(stack, "removed directory", std::move(sent));
  }
}
