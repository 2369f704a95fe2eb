#include "store/pool.h"

#include "check.h"

namespace store {

std::unique_ptr<Pool> Pool::open(const Options& options, int size, std::string* error) {
  CREBITO_ASSERT(size > 0);
  std::unique_ptr<Pool> pool(new Pool());
  for (int i = 0; i < size; ++i) {
    std::unique_ptr<Connection> connection = Connection::open(options, &pool->writer_mutex_, error);
    if (!connection) return nullptr;
    pool->free_.push_back(connection.get());
    pool->connections_.push_back(std::move(connection));
  }
  return pool;
}

Pool::Lease Pool::acquire() {
  std::unique_lock<std::mutex> lock(free_mutex_);
  free_changed_.wait(lock, [this] { return !free_.empty(); });
  Connection* connection = free_.back();
  free_.pop_back();
  return Lease(this, connection);
}

void Pool::release(Connection* connection) {
  {
    std::lock_guard<std::mutex> lock(free_mutex_);
    CREBITO_ASSERT(free_.size() < connections_.size());
    free_.push_back(connection);
  }
  free_changed_.notify_one();
}

}  // namespace store
