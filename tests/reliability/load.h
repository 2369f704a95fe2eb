// A bounded write load for reliability tests: `threads` threads, each with its own keep-alive
// client, POST credits and debits with unique descriptions as fast as answers come, recording
// every answer (status 0 when the connection was cut or timed out) until stop().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "reliability/ledger_check.h"

class Load {
 public:
  using ClientFactory = std::function<std::unique_ptr<httplib::Client>()>;

  // Starts at once. prefix makes descriptions unique across loads of one test.
  Load(ClientFactory make_client, int threads, char prefix);
  ~Load();
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // Requests answered so far with neither 200 nor 422. Thread-safe.
  int64_t failed() const { return failed_; }
  int64_t answered() const { return answered_; }
  // Requests answered 200 or 422 so far.
  int64_t succeeded() const { return answered_ - failed_; }

  // Waits until `more` requests have succeeded since the call; false if they have not by
  // `timeout`. Polls every 5 ms.
  bool wait_for_successes(int64_t more, std::chrono::milliseconds timeout) const;

  // Stops the threads after their current request and returns everything they sent.
  Journal stop();

 private:
  void run(int thread);

  const ClientFactory make_client_;
  const char prefix_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> answered_{0};
  std::vector<std::vector<Sent>> sent_;  // One per thread, written by that thread only.
  std::vector<std::thread> threads_;
};
