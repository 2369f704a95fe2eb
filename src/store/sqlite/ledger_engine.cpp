#include "store/sqlite/ledger_engine.h"

#include "crebito_limits.h"

namespace store {

std::unique_ptr<SqliteLedgerEngine> SqliteLedgerEngine::open(const Options& options, int size,
                                                             std::string* error) {
  std::unique_ptr<SqliteConnectionPool<SqliteLedgerConnection>> connections =
      SqliteConnectionPool<SqliteLedgerConnection>::open(options, size, /*kept=*/1,
                                                         error);  // The writer.
  if (!connections) return nullptr;
  return std::unique_ptr<SqliteLedgerEngine>(new SqliteLedgerEngine(std::move(connections)));
}

Status SqliteLedgerEngine::read_statement(int64_t account_id, size_t entries_max,
                                          AccountRow* account, std::vector<EntryRow>* entries) {
  Status status;
  const bool in_turn = turn_.read(
      [&](SqliteLedgerConnection* writer) {
        Status read = writer->read_statement_in_write(account_id, entries_max, account, entries);
        // A failed read may have ended the transaction: roll back whatever is left of it.
        if (read != Status::ok && read != Status::refused) writer->abandon_write();
        return read;
      },
      &status);
  if (in_turn) return status;
  Lease connection = acquire();
  return connection->read_statement(account_id, entries_max, account, entries);
}

Status SqliteLedgerEngine::post(const Posting& posting, AccountRow* after) {
  if (turn_.takes_writes()) {
    return turn_.write(
        [&](SqliteLedgerConnection* writer) { return writer->apply(posting, after); },
        [&] { return post(posting, after); });  // No longer takes writes: the group commit.
  }
  thread_local QueuedWrite mine;
  mine.write = {&posting, {}, Status::unavailable};
  group_commit_.submit(&mine, [this](GroupCommit::Entry* const* entries, size_t count) {
    SqliteLedgerConnection* writer = turn_.writer();  // The leader holds the writer lock.
    SqliteLedgerConnection::Write* writes[limits::write_batch_max];
    for (size_t i = 0; i < count; ++i) writes[i] = &static_cast<QueuedWrite*>(entries[i])->write;
    // Each write gets its own outcome; on failure, the batch's status with its message.
    static_cast<void>(writer->post_batch_holding_lock(writes, count));
  });
  if (mine.write.status == Status::ok) *after = mine.write.after;
  return std::move(mine.write.status);
}

}  // namespace store
