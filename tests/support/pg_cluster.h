// A throwaway PostgreSQL cluster for one test: scripts/pg-cluster in a fresh temporary directory
// (a unix socket there, no TCP port), started by the constructor and stopped, with the directory
// removed, by the destructor. The crash tests stop it like a power cut (stop_immediate) and start
// it again on the same data (start_again): whatever was committed before must be there after.
//
// Every call runs the script and waits for it; a failure throws std::runtime_error carrying the
// script's own message. Not thread-safe: one test thread drives it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/temp_dir.h"

class PgCluster {
 public:
  // initdb, start, wait until the server accepts connections, create the database `crebito`.
  PgCluster();
  // Stops the server (fast; immediate if that fails) and removes the directory.
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // The libpq URI of the database: postgresql:///crebito?host=DIR/socket&port=5432&user=postgres
  const std::string& uri() const { return uri_; }
  // The cluster's directory (data/, socket/, postgresql.log).
  std::string dir() const { return dir_->file("pg"); }
  std::string log_path() const { return dir() + "/postgresql.log"; }

  // pg_ctl stop -m immediate: the server ends at once, without a checkpoint; clients lose their
  // connections. REQUIRES: running().
  void stop_immediate();
  // pg_ctl stop -m fast: sessions end, a clean checkpoint. REQUIRES: running().
  void stop();
  // Starts the server again on the same data (replaying the WAL after stop_immediate) and waits
  // until it accepts connections. REQUIRES: !running().
  void start_again();
  bool running() const { return running_; }

  // Runs SQL on the database through psql (-X, unaligned, tuples only, stop on the first error)
  // and returns what it printed; throws with psql's message when it fails.
  std::string psql(const std::string& sql) const;
  // The same, one line of output per row.
  std::vector<std::string> psql_rows(const std::string& sql) const;

 private:
  // Runs scripts/pg-cluster with these arguments; its stdout, or throws with its stderr.
  std::string run_script(const std::vector<std::string>& arguments) const;

  std::unique_ptr<TempDir> dir_;
  std::string uri_;
  bool running_ = false;
};
