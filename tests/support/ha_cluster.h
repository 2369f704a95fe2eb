// crebito beyond one machine, for one test: scripts/ha in a fresh temporary directory. Every node
// runs in a network namespace of its own (pg_auto_failover's monitor, data nodes db1 and db2 with
// a synchronous standby, crebito hosts h1 and h2 with the instances), the instances reach
// PostgreSQL over TCP with TLS (sslmode=verify-full) through the multi-host URI pg_auto_failover
// prints, and haproxy listens on a free loopback port of the test's own namespace. The constructor
// starts it all and returns once a posting through haproxy is answered; the destructor stops every
// process by its recorded pid, deletes exactly the namespaces it created and removes the directory.
//
// Needs root (network namespaces); without it the constructor throws with the script's reason.
// Every call runs the script and waits for it; a failure throws std::runtime_error carrying the
// script's own message. Not thread-safe: one test thread drives it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/temp_dir.h"

class HaCluster {
 public:
  // instances: crebito instances in all, alternating between hosts h1 and h2.
  explicit HaCluster(int instances);
  ~HaCluster();
  HaCluster(const HaCluster&) = delete;
  HaCluster& operator=(const HaCluster&) = delete;

  // haproxy's port on 127.0.0.1.
  int port() const { return port_; }
  const std::string& dir() const { return dir_->path(); }
  // The libpq URI the instances were given (pg_autoctl show uri).
  const std::string& uri() const { return uri_; }
  // The unix socket of instance 1..N (api01, ...), where its GET /metrics is scraped, and
  // haproxy's statistics over HTTP (scripts/ha).
  std::string instance_socket(int instance) const;
  std::string haproxy_stats_socket() const { return dir() + "/run/haproxy-stats.sock"; }

  // The data node the monitor has as primary ("db1" or "db2"); empty while there is none.
  std::string primary() const;
  // Waits up to timeout_s for a primary and a secondary, both reported so; returns the primary.
  std::string wait_healthy(int timeout_s) const;
  // The node's line of `pg_autoctl show state`-like output: "NAME REPORTED GOAL" for each node.
  std::string states() const;

  // kill -9 of the node's pg_autoctl and postmaster: a crashed machine (scripts/ha kill-node).
  void kill_node(const std::string& node);
  // Its pg_autoctl again: it rejoins as a standby.
  void start_node(const std::string& node);
  // The cable of a host pulled (NODE, "mon", "h1", "h2"), and plugged back.
  void cut(const std::string& name);
  void heal(const std::string& name);
  // kill -9 of every crebito instance on "h1" or "h2", and starting them again.
  void kill_host(const std::string& host);
  void start_host(const std::string& host);

  // Runs SQL on a node's database through its unix socket (works while the node is cut off);
  // one vector per row, columns split on '|'.
  std::vector<std::vector<std::string>> query(const std::string& node,
                                              const std::string& sql) const;

 private:
  std::string run_script(const std::vector<std::string>& arguments) const;

  std::unique_ptr<TempDir> dir_;
  int port_ = 0;
  std::string uri_;
  bool started_ = false;
};
