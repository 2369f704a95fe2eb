// Waiting for a condition with a deadline, for every kind of test: a condition is polled, never
// slept on blindly.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

// Calls `holds` every poll_interval until it returns true; false if it has not by `timeout`.
inline bool wait_until(const std::function<bool()>& holds,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10),
                       std::chrono::milliseconds poll_interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!holds()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
  return true;
}
