// Crash cycles for the reliability tests: kill -9 of instance 1, instance 2 or both through the
// Stack, a random while down, a restart, and a wait until haproxy has them back in rotation (read
// from haproxy's own log, where it says "is DOWN" and "is UP"). A single kill also measures how
// long haproxy kept the dead instance in rotation and how many requests failed meanwhile.
//
// Not thread-safe: one test thread runs the cycles while its load threads send requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "support/stack.h"

int64_t elapsed_ms(std::chrono::steady_clock::time_point since);

// The seed in environment variable `variable` (to repeat a run's timings), else a random one.
unsigned seed_from_env(const char* variable);

struct CrashFigures {
  int cycles = 0;
  int kills = 0;
  int single_kills = 0;
  int64_t detection_ms_max = 0;
  int64_t detection_ms_total = 0;
  int64_t failures_per_kill_max = 0;
  int64_t failures_single_total = 0;
  int64_t failures_both_total = 0;    // While both are down haproxy answers 503 at once: expected.
  std::vector<std::string> problems;  // Collected here, asserted on after the load stops.
};

// Instance 1, instance 2 or both, each a third of the time.
std::vector<int> choose_victims(std::mt19937& random);

// Kills the victims with SIGKILL, measures a single kill, keeps them down 100-800 ms, restarts
// them and waits until haproxy has them back in rotation. failed() counts the load's failed
// requests so far (thread-safe).
void crash_cycle(Stack& stack, const std::function<int64_t()>& failed,
                 const std::vector<int>& victims, std::mt19937& random, CrashFigures* figures);
