// payments::OwnedThread: one background thread an object owns, the lock and the wake-up it waits
// on, and the flag that asks it to stop: the shape the dispatcher and the health poller share.
// The owner's body takes `mutex`, waits on `wake` for its own conditions or `stopping`, and
// returns once it sees `stopping` (and has finished what it must).
//
// Thread-safe: request_stop() and stop() from any thread but the owned one. start() once.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "check.h"

namespace payments {

class OwnedThread {
 public:
  OwnedThread() = default;
  ~OwnedThread() { stop(); }
  OwnedThread(const OwnedThread&) = delete;
  OwnedThread& operator=(const OwnedThread&) = delete;

  // Runs body on the thread. REQUIRES: not started before.
  void start(std::function<void()> body) {
    CREBITO_ASSERT(!thread_.joinable());
    thread_ = std::thread(std::move(body));
  }
  // Sets stopping and wakes the thread; returns at once.
  void request_stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
  }
  // request_stop(), then waits for the body to return.
  void stop() {
    request_stop();
    if (thread_.joinable()) thread_.join();
  }

  std::mutex mutex;
  std::condition_variable wake;  // The owned thread waits here.
  bool stopping = false;         // Guarded by mutex.

 private:
  std::thread thread_;
};

}  // namespace payments
