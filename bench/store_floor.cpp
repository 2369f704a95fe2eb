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
//
// Defaults: 2 processes, batches 1,2,4,8,16,32, 20000 postings per process and batch size, a
// temporary directory under $TMPDIR (or /tmp), removed afterwards. SQLite is configured as the
// server configures it (store::configure_sqlite); CREBITO_SQLITE_MEMSTATUS=1 leaves SQLite's
// defaults, to measure that setting.
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

namespace {

constexpr int processes_max = 16;
constexpr long postings_max = 10'000'000;
constexpr int batch_max = limits::write_batch_max;

struct Settings {
  int processes = 2;
  std::vector<int> batches{1, 2, 4, 8, 16, 32};
  long postings = 20'000;
  std::string dir;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr,
               "crebito-store-floor: %s\nusage: crebito-store-floor [--processes P] "
               "[--batches B[,B...]] [--postings N] [--dir DIR]\n",
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
      const store::Status status = pool->post(posting, &after, &error);
      if (status != store::Status::ok && status != store::Status::refused) {
        std::fprintf(stderr, "crebito-store-floor: posting failed: %s\n", error.c_str());
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

// Runs `processes` children on a fresh file; the median of their figures, or a negative value.
double measure(const Settings& settings, const std::string& dir, int batch) {
  const std::string path = dir + "/floor-" + std::to_string(batch) + ".db";
  std::string error;
  if (!store::apply_schema(path, &error)) {
    std::fprintf(stderr, "crebito-store-floor: %s\n", error.c_str());
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
      const double figure = post_in_turns(path, batch, settings.postings);
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
  std::printf("%d processes, %ld postings each per batch size, in %s%s\n", settings.processes,
              settings.postings, dir.c_str(),
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
