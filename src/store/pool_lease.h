// store::PoolLease<Pool, C> is one connection of kind C on loan from a Pool, handed back when the
// lease is destroyed: the lease of both engines' fixed connection pools
// (store::SqliteConnectionPool, store/sqlite/connection_pool.h; store::pg::ConnectionPool,
// store/postgres/pg_connection.h). A Pool lends a connection to one borrower at a time, provides
// release(C*) and makes PoolLease<Pool, C> its friend. Neither copied nor moved: a lease lives in
// the scope that borrowed.
#pragma once

namespace store {

template <class Pool, class C>
class PoolLease {
 public:
  PoolLease(Pool* pool, C* connection) : pool_(pool), connection_(connection) {}
  ~PoolLease() { pool_->release(connection_); }
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  C* operator->() const { return connection_; }
  C& operator*() const { return *connection_; }

 private:
  Pool* const pool_;
  C* const connection_;
};

}  // namespace store
