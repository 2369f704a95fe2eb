// The configuration of one crebito instance: command-line flags, each with an environment
// variable of the same meaning (the flag wins), validated once at start against crebito_limits.h.
// --db and --store both name the store: a flag wins over either variable, and of two from the same
// place (two flags, or two variables) --store wins.
// config.cpp holds one row per setting (flag, variable, kind of value, bounds, help); the defaults
// are the member initializers below.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crebito_limits.h"
#include "http/server.h"
#include "store/location.h"

// The two faces one binary serves on the shared database: the 2024 ledger (/clientes/...,
// /health) and the 2025 payments (/payments, /payments-summary, /purge-payments,
// /payments-consistency, with its forwarders and health poller). A face that is off has no routes
// (its paths answer 404) and starts no thread.
struct Faces {
  bool ledger = true;
  bool payments = true;
};

struct Config {
  Faces faces;
  std::string db_path = "data/crebito.db";
  // The store: --store when it wins (a sqlite: one also sets db_path), else the file db_path.
  store::Location store{store::Location::Kind::sqlite, "data/crebito.db", ""};
  int store_connections = limits::store_connections_default;  // PostgreSQL only.
  http::ListenAddress listen{false, "127.0.0.1", 9997, ""};
  int threads = limits::threads_default;
  int busy_timeout_ms = limits::busy_timeout_ms_default;
  int drain_ms = limits::drain_ms_default;
  // Payments face (docs/PAYMENTS.md).
  std::string processor_default_url = "http://payment-processor-default:8080";
  std::string processor_fallback_url = "http://payment-processor-fallback:8080";
  int payment_workers = limits::payment_workers_default;
  int processor_timeout_ms = limits::processor_timeout_ms_default;
  // GET /metrics and the counters behind it (docs/METRICS.md).
  bool metrics = true;
};

// args excludes the program name; env is a list of NAME=VALUE strings (as in environ).
// false and *error (one line naming the flag, its variable and the rule) on any invalid value or
// unknown flag. *help is set when --help is given; the config is then left at its defaults.
bool parse_config(const std::vector<std::string>& args, const std::vector<std::string>& env,
                  Config* config, bool* help, std::string* error);

// Parses "HOST:PORT" or a unix-socket path (any value containing '/').
bool parse_listen_address(const std::string& text, http::ListenAddress* address,
                          std::string* error);

// --help: every setting with its variable, its bounds and its default. `program` heads it.
std::string config_usage(const std::string& program);

// What a program's main() does first: parses argv and the process environment into *config.
// Returns the exit status when the program should stop here: 0 after printing --help, 2 after a
// bad setting (the message and --help on stderr, each prefixed with `program`); nullopt to go on.
std::optional<int> configure(const std::string& program, int argc, char** argv, Config* config);
