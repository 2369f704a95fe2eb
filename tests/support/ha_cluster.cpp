#include "support/ha_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "support/child_process.h"

#ifndef HA_SCRIPT
#error "HA_SCRIPT must name scripts/ha"
#endif

using child_process::ErrFile;
using child_process::read_file;
using child_process::run;
using child_process::trimmed;

namespace {

// A loopback port free right now; scripts/ha binds haproxy to it moments later (and fails, saying
// so, in the unlikely case another process took it meanwhile).
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

std::string HaCluster::instance_socket(int instance) const {
  char name[16];
  std::snprintf(name, sizeof name, "api%02d", instance);
  return dir() + "/run/" + name + ".sock";
}

HaCluster::HaCluster(int instances) : dir_(std::make_unique<TempDir>()) {
  // The postgres user must get through this directory to its nodes' directories.
  ::chmod(dir_->path().c_str(), 0755);
  port_ = free_loopback_port();
  try {
    started_ = true;
    run_script({"start", dir(), "--instances", std::to_string(instances), "--port",
                std::to_string(port_)});
    uri_ = trimmed(run_script({"uri", dir()}));
  } catch (...) {
    try {
      run_script({"stop", dir()});
    } catch (...) {
    }
    started_ = false;
    throw;
  }
}

HaCluster::~HaCluster() {
  if (!started_) return;
  try {
    run_script({"stop", dir()});
  } catch (...) {
    // Nothing more to do from a destructor; the script's message is in the directory's log.
  }
}

std::string HaCluster::primary() const { return trimmed(run_script({"primary", dir()})); }

std::string HaCluster::wait_healthy(int timeout_s) const {
  return trimmed(run_script({"wait-healthy", dir(), std::to_string(timeout_s)}));
}

std::string HaCluster::states() const { return trimmed(run_script({"states", dir()})); }

void HaCluster::kill_node(const std::string& node) { run_script({"kill-node", dir(), node}); }
void HaCluster::start_node(const std::string& node) { run_script({"start-node", dir(), node}); }
void HaCluster::cut(const std::string& name) { run_script({"cut", dir(), name}); }
void HaCluster::heal(const std::string& name) { run_script({"heal", dir(), name}); }
void HaCluster::kill_host(const std::string& host) { run_script({"kill-host", dir(), host}); }
void HaCluster::start_host(const std::string& host) { run_script({"start-host", dir(), host}); }

std::vector<std::vector<std::string>> HaCluster::query(const std::string& node,
                                                       const std::string& sql) const {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(run_script({"psql", dir(), node, sql}));
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> columns;
    size_t start = 0;
    for (size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1) {
      columns.push_back(line.substr(start, bar - start));
    }
    columns.push_back(line.substr(start));
    rows.push_back(std::move(columns));
  }
  return rows;
}

std::string HaCluster::run_script(const std::vector<std::string>& arguments) const {
  std::vector<std::string> argv{HA_SCRIPT};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const std::string err_path = dir_->file("ha-script.err");
  const size_t before = read_file(err_path).size();
  std::string out;
  if (run(argv, err_path, ErrFile::append, &out) != 0) {
    const std::string err = read_file(err_path).substr(before);
    throw std::runtime_error("scripts/ha " + arguments.at(0) + " failed: " + trimmed(err));
  }
  return out;
}
