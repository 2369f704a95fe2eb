#include "support/pg_cluster.h"

#include <sys/stat.h>

#include <sstream>
#include <stdexcept>

#include "support/child_process.h"

#ifndef PG_CLUSTER_SCRIPT
#error "PG_CLUSTER_SCRIPT must name scripts/pg-cluster"
#endif

using child_process::ErrFile;
using child_process::read_file;
using child_process::run;
using child_process::trimmed;

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
  const int status = run(argv, err_path, ErrFile::truncate, &out);
  if (status != 0) {
    throw std::runtime_error("scripts/pg-cluster " + arguments[0] + " failed (exit " +
                             std::to_string(status) + "): " + read_file(err_path));
  }
  return out;
}
