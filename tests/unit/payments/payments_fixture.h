// What the payments unit tests share: a fresh database file with the schema applied, the store
// that lends sessions on it and single connections to it, distinct correlationIds, and waiting
// for a condition with a deadline (support/wait_until.h).
#pragma once

#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "store/sqlite/payments_store.h"
#include "store/sqlite/schema.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"

namespace payments_fixture {

// A payments queue in a fresh SQLite file.
struct QueueFile {
  TempDir dir;
  std::string path = dir.file("crebito.db");
  std::shared_ptr<store::WriterLock> writer_lock;
  // What the face's parts borrow from (a dispatcher, health pollers, a Payments).
  std::unique_ptr<store::SqlitePaymentsStore> store;

  static constexpr int store_sessions = 4;

  QueueFile() {
    std::string error;
    REQUIRE(store::apply_schema(path) == store::Status::ok);
    writer_lock = store::WriterLock::open(path, &error);
    REQUIRE(writer_lock);
    const store::Status opened =
        store::SqlitePaymentsStore::open(options(), store_sessions, &store);
    INFO(opened.message());
    REQUIRE(opened == store::Status::ok);
  }
  store::Options options() const { return {path, 1000}; }
  std::unique_ptr<store::SqlitePaymentsConnection> connect() const {
    std::string error;
    auto connection = store::SqlitePaymentsConnection::open(options(), writer_lock.get(), &error);
    REQUIRE(connection);
    return connection;
  }
  // Puts a copy of the file in its place, as an operator restoring a backup would: every
  // connection opened before sees a moved file (store/sqlite/database.h, invariant 7) until
  // replaced.
  void replace_by_copy() const {
    const std::string copy = dir.file("copy.db");
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("VACUUM INTO '" + copy + "'");
    }
    {
      SQLite::Database db(copy, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA journal_mode = WAL");
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    std::filesystem::rename(copy, path);
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

}  // namespace payments_fixture
