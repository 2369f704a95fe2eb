#include "support/pg_cluster.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#ifndef PG_CLUSTER_SCRIPT
#error "PG_CLUSTER_SCRIPT must name scripts/pg-cluster"
#endif

extern char** environ;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Runs argv with stdout into a pipe and stderr into err_path; returns the exit status (-1 when it
// did not exit normally) and stdout in *out.
int run(const std::vector<std::string>& argv, const std::string& err_path, std::string* out) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  out->clear();
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

PgCluster::PgCluster() : dir_(std::make_unique<TempDir>()) {
  // As root the server runs as the postgres user, which must get through this directory.
  ::chmod(dir_->path().c_str(), 0755);
  try {
    uri_ = trimmed(run_script({"start", dir()}));
  } catch (...) {
    // A start can fail after the server came up (creating the database): leave nothing running
    // in a directory about to be removed.
    try {
      run_script({"stop-immediate", dir()});
    } catch (...) {
    }
    throw;
  }
  running_ = true;
}

PgCluster::~PgCluster() {
  if (!running_) return;
  try {
    run_script({"stop", dir()});
  } catch (...) {
    try {
      run_script({"stop-immediate", dir()});
    } catch (...) {
      // Nothing more to do from a destructor; the script's message went to stderr.
    }
  }
}

void PgCluster::stop_immediate() {
  run_script({"stop-immediate", dir()});
  running_ = false;
}

void PgCluster::stop() {
  run_script({"stop", dir()});
  running_ = false;
}

void PgCluster::start_again() {
  run_script({"start", dir()});
  running_ = true;
}

std::string PgCluster::psql(const std::string& sql) const {
  return run_script({"psql", dir(), sql});
}

std::vector<std::string> PgCluster::psql_rows(const std::string& sql) const {
  std::vector<std::string> rows;
  std::istringstream lines(psql(sql));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) rows.push_back(line);
  }
  return rows;
}

std::string PgCluster::run_script(const std::vector<std::string>& arguments) const {
  std::vector<std::string> argv = {PG_CLUSTER_SCRIPT};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const std::string err_path = dir_->file("pg-cluster.err");
  std::string out;
  const int status = run(argv, err_path, &out);
  if (status != 0) {
    throw std::runtime_error("scripts/pg-cluster " + arguments[0] + " failed (exit " +
                             std::to_string(status) + "): " + read_file(err_path));
  }
  return out;
}
