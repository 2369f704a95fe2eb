// A processor-sim process (tools/processor-sim) on a free loopback port, for integration tests,
// with its admin endpoints as calls. Stopped by its pid when the object is destroyed.
// The environment variable CREBITO_PROCESSOR_SIM, when set, names another processor-sim binary to
// start instead of this build's (to measure an older build with the same tests).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"

class ProcessorSim {
 public:
  // `extra_args` go to processor-sim after --listen and --fee (e.g. {"--permits", "4000"}).
  ProcessorSim(const std::string& fee, const std::string& log_path,
               const std::vector<std::string>& extra_args = {}) {
    port_ = free_port();
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    const char* binary = std::getenv("CREBITO_PROCESSOR_SIM");
    std::vector<std::string> argv = {binary != nullptr ? binary : PROCESSOR_SIM_BINARY, "--listen",
                                     listen, "--fee", fee};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    pid_ = child_process::start(argv, {}, log_path);
    if (!wait_until([this] { return summary().status == 200; }, std::chrono::seconds(10))) {
      throw std::runtime_error("processor-sim did not answer");
    }
  }
  ~ProcessorSim() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  ProcessorSim(const ProcessorSim&) = delete;
  ProcessorSim& operator=(const ProcessorSim&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  struct Summary {
    int status = 0;
    int64_t requests = 0;
    double amount = 0;
  };
  // GET /admin/payments-summary (all payments when from/to are empty).
  Summary summary(const std::string& from = "", const std::string& to = "") const {
    auto c = client();
    std::string path = "/admin/payments-summary";
    if (!from.empty()) path += "?from=" + from + "&to=" + to;
    const httplib::Result result = c->Get(path.c_str(), {{"X-Rinha-Token", "123"}});
    Summary summary;
    if (!result) return summary;
    summary.status = result->status;
    const auto body = nlohmann::json::parse(result->body, nullptr, false);
    if (result->status == 200 && body.is_object()) {
      summary.requests = body["totalRequests"].get<int64_t>();
      summary.amount = body["totalAmount"].get<double>();
    }
    return summary;
  }
  struct Recorded {
    std::string correlation_id;
    int64_t amount_cents = 0;
    std::string requested_at;
  };
  // GET /admin/payments (the simulator's own, for tests): every payment it recorded, one entry
  // per correlationId. nullopt when it did not answer 200 with a list.
  std::optional<std::vector<Recorded>> payments() const {
    const httplib::Result result = client()->Get("/admin/payments", {{"X-Rinha-Token", "123"}});
    if (!result || result->status != 200) return std::nullopt;
    const auto body = nlohmann::json::parse(result->body, nullptr, false);
    if (!body.is_array()) return std::nullopt;
    std::vector<Recorded> recorded;
    recorded.reserve(body.size());
    for (const auto& entry : body) {
      recorded.push_back({entry["correlationId"].get<std::string>(),
                          std::llround(entry["amount"].get<double>() * 100.0),
                          entry["requestedAt"].get<std::string>()});
    }
    return recorded;
  }
  bool set_delay(int delay_ms) const { return put("delay", {{"delay", delay_ms}}); }
  bool set_failure(bool failure) const { return put("failure", {{"failure", failure}}); }

 private:
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
  }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_tcp_nodelay(true);
    c->set_read_timeout(std::chrono::seconds(10));
    return c;
  }
  bool put(const std::string& what, const nlohmann::json& body) const {
    const httplib::Result result =
        client()->Put(("/admin/configurations/" + what).c_str(), {{"X-Rinha-Token", "123"}},
                      body.dump(), "application/json");
    return result && result->status == 200;
  }

  int port_ = 0;
  pid_t pid_ = -1;
};

// The two processors of the 2025 final (default fee 0.07, fallback 0.10), logging in a folder of
// their own, and the environment that points crebito at them.
struct ProcessorPair {
  TempDir logs;
  ProcessorSim default_sim{"0.07", logs.file("default.log")};
  ProcessorSim fallback_sim{"0.10", logs.file("fallback.log")};

  // PROCESSOR_DEFAULT_URL and PROCESSOR_FALLBACK_URL, then `more`.
  std::vector<std::string> urls_env(const std::vector<std::string>& more = {}) const {
    std::vector<std::string> env = {"PROCESSOR_DEFAULT_URL=" + default_sim.url(),
                                    "PROCESSOR_FALLBACK_URL=" + fallback_sim.url()};
    env.insert(env.end(), more.begin(), more.end());
    return env;
  }

  // Every payment either processor recorded, the default's first; nullopt when a list could not
  // be read.
  std::optional<std::vector<ProcessorSim::Recorded>> payments() const {
    std::optional<std::vector<ProcessorSim::Recorded>> all = default_sim.payments();
    const std::optional<std::vector<ProcessorSim::Recorded>> fallback = fallback_sim.payments();
    if (!all || !fallback) return std::nullopt;
    all->insert(all->end(), fallback->begin(), fallback->end());
    return all;
  }
};
