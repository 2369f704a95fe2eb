// crebito-store-floor: what the SQLite store costs per posting, with no HTTP in front of it.
//
// P processes share one fresh database file, as the two instances do. Each runs the ledger's
// store as the server does (store::SqliteLedgerEngine, its writer connection and the WriterLock
// shared with the other process, a store::Checkpointer thread) and posts in turns of B postings:
// begin_turn(), B postings, end_turn(), the way the event loop commits one wake-up's debits.
// Accounts 1-5 at random, credits and debits of 1-1000 cents half and half (a debit the limit
// refuses costs what it costs the server). Each process measures its own CPU time (all its threads,
// kernel time included) over its postings; the figure printed is the median over the processes, in
// microseconds of CPU per posting, for each batch size.
//
// The server's CPU per request (bench/compare) minus crebito-null's is the store's share plus the
// handlers'; this says how much of it the store alone costs, and how it falls as turns grow.
//
//   crebito-store-floor [--processes P] [--batches B[,B...]] [--postings N] [--dir DIR]
//                       [--layout store|clustered|recent]
//
// Defaults: 2 processes, batches 1,2,4,8,16,32, 20000 postings per process and batch size, a
// temporary directory under $TMPDIR (or /tmp), removed afterwards. SQLite is configured as the
// server configures it (store::configure_sqlite); CREBITO_SQLITE_MEMSTATUS=1 leaves SQLite's
// defaults, to measure that setting.
//
// --layout is an experiment on the file's layout, not the store: `clustered` posts with the
// store's own statements (schema.sql's layout) through a bare connection, the writer lock and
// turns, without store::SqliteLedgerEngine; `recent` does the same on a layout where the account
// row keeps its last ten entries and the history is a table appended in commit order, so a turn
// writes the accounts page and the history's last page instead of one page per account. Compare
// the two with each other.
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "crebito_limits.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/database.h"
#include "store/sqlite/ledger_engine.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/writer_lock.h"

namespace {

constexpr int processes_max = 16;
constexpr long postings_max = 10'000'000;
constexpr int batch_max = limits::write_batch_max;

struct Settings {
  int processes = 2;
  std::vector<int> batches{1, 2, 4, 8, 16, 32};
  long postings = 20'000;
  std::string dir;
  std::string layout = "store";
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(
      stderr,
      "crebito-store-floor: %s\nusage: crebito-store-floor [--processes P] "
      "[--batches B[,B...]] [--postings N] [--dir DIR] [--layout store|clustered|recent]\n",
      message.c_str());
  std::exit(2);
}

long parse_number(const char* text, long low, long high, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < low || value > high) {
    usage_error(std::string(what) + " must be a whole number from " + std::to_string(low) + " to " +
                std::to_string(high) + ", not '" + text + "'");
  }
  return value;
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    const char* value = argv[++i];
    if (flag == "--processes") {
      settings.processes = static_cast<int>(parse_number(value, 1, processes_max, "--processes"));
    } else if (flag == "--postings") {
      settings.postings = parse_number(value, 1, postings_max, "--postings");
    } else if (flag == "--dir") {
      settings.dir = value;
    } else if (flag == "--layout") {
      settings.layout = value;
      if (settings.layout != "store" && settings.layout != "clustered" &&
          settings.layout != "recent") {
        usage_error("--layout must be store, clustered or recent");
      }
    } else if (flag == "--batches") {
      settings.batches.clear();
      std::string list = value;
      size_t begin = 0;
      while (begin <= list.size()) {
        const size_t end = std::min(list.find(',', begin), list.size());
        const std::string item = list.substr(begin, end - begin);
        settings.batches.push_back(
            static_cast<int>(parse_number(item.c_str(), 1, batch_max, "each batch size")));
        begin = end + 1;
      }
    } else {
      usage_error("unknown flag " + flag);
    }
  }
  return settings;
}

double cpu_us() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// One process's run: CPU microseconds per posting, or a negative value on failure.
double post_in_turns(const std::string& path, int batch, long postings) {
  std::string error;
  const std::unique_ptr<store::SqliteLedgerEngine> pool =
      store::SqliteLedgerEngine::open({path, 1000}, 1, &error);
  const std::unique_ptr<store::Checkpointer> checkpointer =
      pool ? store::Checkpointer::start(path, &error) : nullptr;
  if (!pool || !checkpointer) {
    std::fprintf(stderr, "crebito-store-floor: %s\n", error.c_str());
    return -1;
  }
  std::mt19937 rng(static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int64_t> account(1, 5);
  std::uniform_int_distribution<int64_t> amount(1, 1000);
  store::Posting posting;
  posting.description = "descricao";
  posting.created_at = "2024-01-17T02:34:38.543030Z";
  store::AccountRow after;
  const double start = cpu_us();
  for (long done = 0; done < postings;) {
    pool->begin_turn();
    for (int i = 0; i < batch && done < postings; ++i, ++done) {
      posting.account_id = account(rng);
      posting.amount_cents = amount(rng);
      posting.kind = (rng() & 1) != 0 ? 'c' : 'd';
      posting.delta_cents = posting.kind == 'c' ? posting.amount_cents : -posting.amount_cents;
      const store::Status status = pool->post(posting, &after);
      if (status != store::Status::ok && status != store::Status::refused) {
        std::fprintf(stderr, "crebito-store-floor: posting failed: %s\n", status.message().c_str());
        return -1;
      }
    }
    if (!pool->end_turn()) {
      std::fprintf(stderr, "crebito-store-floor: a turn did not commit\n");
      return -1;
    }
  }
  return (cpu_us() - start) / static_cast<double>(postings);
}

// The --layout experiment (see the top of the file).
constexpr int recent_entries = 10;
constexpr int recent_entry_bytes = 80;  // Amount, kind, description, time, padded.

const char* layout_schema_sql(const std::string& layout) {
  if (layout == "clustered") {
    return "PRAGMA journal_mode = WAL;"
           "CREATE TABLE accounts (id INTEGER PRIMARY KEY, limit_cents INTEGER NOT NULL,"
           "  balance_cents INTEGER NOT NULL DEFAULT 0,"
           "  transaction_count INTEGER NOT NULL DEFAULT 0) STRICT;"
           "CREATE TABLE transactions (account_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
           "  amount_cents INTEGER NOT NULL, kind TEXT NOT NULL, description TEXT NOT NULL,"
           "  created_at TEXT NOT NULL, PRIMARY KEY (account_id, seq)) STRICT, WITHOUT ROWID;"
           "INSERT INTO accounts (id, limit_cents) VALUES (1, 100000), (2, 80000), (3, 1000000),"
           "  (4, 10000000), (5, 500000);";
  }
  return "PRAGMA journal_mode = WAL;"
         "CREATE TABLE accounts (id INTEGER PRIMARY KEY, limit_cents INTEGER NOT NULL,"
         "  balance_cents INTEGER NOT NULL DEFAULT 0,"
         "  transaction_count INTEGER NOT NULL DEFAULT 0, recent TEXT NOT NULL DEFAULT '') STRICT;"
         "CREATE TABLE history (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL,"
         "  seq INTEGER NOT NULL, amount_cents INTEGER NOT NULL, kind TEXT NOT NULL,"
         "  description TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;"
         "INSERT INTO accounts (id, limit_cents) VALUES (1, 100000), (2, 80000), (3, 1000000),"
         "  (4, 10000000), (5, 500000);";
}

double report(store::Database& db, int rc, const char* step) {
  std::fprintf(stderr, "crebito-store-floor: %s\n", db.fail(rc, step).message().c_str());
  return -1;
}

double post_in_turns_raw(const std::string& path, const std::string& layout, int batch,
                         long postings) {
  std::string error;
  const std::shared_ptr<store::WriterLock> lock = store::WriterLock::open(path, &error);
  const std::unique_ptr<store::Checkpointer> checkpointer =
      lock ? store::Checkpointer::start(path, &error) : nullptr;
  if (!lock || !checkpointer) {
    std::fprintf(stderr, "crebito-store-floor: %s\n", error.c_str());
    return -1;
  }
  store::Database db({path, 1000}, 0, nullptr);
  db.serve();
  const bool recent = layout == "recent";
  SQLite::Statement update(
      db.sqlite(),
      recent ? "UPDATE accounts SET balance_cents = balance_cents + ?1, "
               "transaction_count = transaction_count + 1, recent = substr(?4 || recent, 1, " +
                   std::to_string(recent_entries * recent_entry_bytes) +
                   ") WHERE id = ?2 AND balance_cents + ?1 >= -limit_cents AND "
                   "balance_cents + ?1 <= ?3 RETURNING balance_cents, limit_cents, "
                   "transaction_count"
             : "UPDATE accounts SET balance_cents = balance_cents + ?1, "
               "transaction_count = transaction_count + 1 WHERE id = ?2 AND "
               "balance_cents + ?1 >= -limit_cents AND balance_cents + ?1 <= ?3 "
               "RETURNING balance_cents, limit_cents, transaction_count");
  SQLite::Statement insert(
      db.sqlite(), recent ? "INSERT INTO history (account_id, seq, amount_cents, kind, "
                            "description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                          : "INSERT INTO transactions (account_id, seq, amount_cents, kind, "
                            "description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  std::mt19937 rng(static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int64_t> account(1, 5);
  std::uniform_int_distribution<int64_t> amount(1, 1000);
  const std::string description = "descricao";
  const std::string created_at = "2024-01-17T02:34:38.543030Z";
  const double start = cpu_us();
  for (long done = 0; done < postings;) {
    lock->lock();
    const store::Status begun = db.begin_write();
    if (begun != store::Status::ok) {
      lock->unlock();
      std::fprintf(stderr, "crebito-store-floor: BEGIN failed: %s\n", begun.message().c_str());
      return -1;
    }
    for (int i = 0; i < batch && done < postings; ++i, ++done) {
      const int64_t id = account(rng);
      const int64_t cents = amount(rng);
      const char kind = (rng() & 1) != 0 ? 'c' : 'd';
      update.bind(1, kind == 'c' ? cents : -cents);
      update.bind(2, id);
      update.bind(3, limits::balance_cents_max);
      std::string entry;
      if (recent) {
        entry = std::to_string(cents) + ',' + kind + ',' + description + ',' + created_at;
        entry.resize(recent_entry_bytes, ' ');
        update.bindNoCopy(4, entry);
      }
      const int rc = update.tryExecuteStep();
      const int64_t seq = rc == SQLITE_ROW ? update.getColumn(2).getInt64() : 0;
      update.tryReset();
      if (rc == SQLITE_DONE) continue;  // Refused.
      if (rc != SQLITE_ROW) return report(db, rc, "UPDATE");
      insert.bind(1, id);
      insert.bind(2, seq);
      insert.bind(3, cents);
      insert.bind(4, std::string(1, kind));
      insert.bindNoCopy(5, description);
      insert.bindNoCopy(6, created_at);
      const int inserted = insert.tryExecuteStep();
      insert.tryReset();
      if (inserted != SQLITE_DONE) return report(db, inserted, "INSERT");
    }
    const store::Status committed = db.commit();
    lock->unlock();
    if (committed != store::Status::ok) return -1;
  }
  return (cpu_us() - start) / static_cast<double>(postings);
}

// Runs `processes` children on a fresh file; the median of their figures, or a negative value.
double measure(const Settings& settings, const std::string& dir, int batch) {
  const std::string path = dir + "/floor-" + std::to_string(batch) + ".db";
  std::string error;
  if (settings.layout != "store") {
    try {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec(layout_schema_sql(settings.layout));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "crebito-store-floor: %s\n", e.what());
      return -1;
    }
  } else if (const store::Status schema = store::apply_schema(path); schema != store::Status::ok) {
    std::fprintf(stderr, "crebito-store-floor: %s\n", schema.message().c_str());
    return -1;
  }
  std::vector<int> pipes;
  std::vector<pid_t> children;
  for (int p = 0; p < settings.processes; ++p) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    const pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
      close(fds[0]);
      const double figure =
          settings.layout == "store"
              ? post_in_turns(path, batch, settings.postings)
              : post_in_turns_raw(path, settings.layout, batch, settings.postings);
      const bool sent = write(fds[1], &figure, sizeof figure) == sizeof figure;
      _exit(sent && figure >= 0 ? 0 : 1);
    }
    close(fds[1]);
    pipes.push_back(fds[0]);
    children.push_back(child);
  }
  std::vector<double> figures;
  bool failed = false;
  for (size_t p = 0; p < children.size(); ++p) {
    double figure = -1;
    if (read(pipes[p], &figure, sizeof figure) != sizeof figure) figure = -1;
    close(pipes[p]);
    int status = 0;
    waitpid(children[p], &status, 0);
    if (figure < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
    figures.push_back(figure);
  }
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-writer"}) {
    std::filesystem::remove(path + suffix, ignored);
  }
  if (failed) return -1;
  std::sort(figures.begin(), figures.end());
  return figures[figures.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  // As the server does, unless the comparison without it is wanted.
  const bool memstatus = std::getenv("CREBITO_SQLITE_MEMSTATUS") != nullptr;
  if (!memstatus) store::configure_sqlite();
  std::string dir = settings.dir;
  bool temporary = false;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/crebito-store-floor.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("crebito-store-floor: mkdtemp");
      return 1;
    }
    dir = pattern;
    temporary = true;
  }
  std::printf("%d processes, %ld postings each per batch size, layout %s, in %s%s\n",
              settings.processes, settings.postings, settings.layout.c_str(), dir.c_str(),
              memstatus ? " (CREBITO_SQLITE_MEMSTATUS: allocation statistics on)" : "");
  std::printf("%8s  %s\n", "batch", "CPU us per posting (median of the processes)");
  int status = 0;
  for (const int batch : settings.batches) {
    const double figure = measure(settings, dir, batch);
    if (figure < 0) {
      std::printf("%8d  failed\n", batch);
      status = 1;
      continue;
    }
    std::printf("%8d  %.1f\n", batch, figure);
    std::fflush(stdout);
  }
  std::error_code ignored;
  if (temporary) std::filesystem::remove_all(dir, ignored);
  return status;
}
