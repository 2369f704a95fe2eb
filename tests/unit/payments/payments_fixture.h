// What the payments unit tests share: a fresh database file with the schema applied, store
// connections to it, distinct correlationIds, and waiting for a condition with a deadline.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "store/payments.h"
#include "store/schema.h"
#include "support/temp_dir.h"

namespace payments_fixture {

// A payments queue in a fresh SQLite file.
struct QueueFile {
  TempDir dir;
  std::string path = dir.file("crebito.db");
  std::shared_ptr<store::WriterLock> writer_lock;

  QueueFile() {
    std::string error;
    REQUIRE(store::apply_schema(path, &error));
    writer_lock = store::WriterLock::open(path, &error);
    REQUIRE(writer_lock);
  }
  store::Options options() const { return {path, 1000}; }
  std::unique_ptr<store::PaymentsConnection> connect() const {
    std::string error;
    auto connection = store::PaymentsConnection::open(options(), writer_lock.get(), &error);
    REQUIRE(connection);
    return connection;
  }
  store::QueueCounts counts() const {
    store::QueueCounts counts;
    REQUIRE(connect()->counts(&counts) == store::Status::ok);
    return counts;
  }
};

// A distinct correlationId per n.
inline std::string id_of(int n) {
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012x", n);
  return id;
}

// Polls `condition` until it holds (true) or `limit` passes (false).
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace payments_fixture
