// Crash cycles for the reliability tests: kill -9 of instance 1, instance 2 or both through the
// Stack, a random while down, a restart, and a wait until haproxy has them back in rotation. How
// haproxy sees each instance is read from its runtime API (Stack::haproxy_status), not from its
// log. Every victim is fully UP (every recent check passed) before it is killed, so a single kill
// takes exactly `fall` failed checks to detect, and the time from the kill to haproxy's DOWN is
// bounded by Stack::HealthChecks::detection_bound_ms(). A single kill also counts how many
// requests failed meanwhile. A kill haproxy has not marked DOWN after several bounds is counted
// as not detected, apart from the detection times.
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

// The clock of the reliability tests' intervals, and their unit.
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t elapsed_ms(Clock::time_point since);

// The seed in environment variable `variable` (to repeat a run's timings), else a random one.
unsigned seed_from_env(const char* variable);

struct CrashFigures {
  int cycles = 0;
  int kills = 0;
  int single_kills = 0;
  int detected = 0;      // Single kills haproxy marked DOWN; their times below.
  int not_detected = 0;  // Single kills haproxy had not marked DOWN when the wait ended.
  int64_t detection_ms_max = 0;
  int64_t detection_ms_total = 0;
  int64_t failures_per_kill_max = 0;
  int64_t failures_single_total = 0;
  int64_t failures_both_total = 0;    // While both are down haproxy answers 503 at once: expected.
  std::vector<std::string> problems;  // Collected here, asserted on after the load stops.

  int64_t detection_ms_mean() const { return detected ? detection_ms_total / detected : 0; }
  // "detection of a dead instance: ..." with the bound and how it is derived.
  std::string describe_detection(const Stack::HealthChecks& checks) const;
  // "seed S, C cycles, K kills (N single) in T s; <detection>; failed requests ...": a run's
  // figures after a crash phase of `phase_ms`.
  std::string describe_run(unsigned seed, int64_t phase_ms,
                           const Stack::HealthChecks& checks) const;
};

// What a crash test carries through its cycles: the seed (from environment variable `variable`,
// printed with the figures), the generator it seeds, and the figures.
struct CrashRun {
  explicit CrashRun(const char* variable) : seed(seed_from_env(variable)), random(seed) {}
  const unsigned seed;
  std::mt19937 random;
  CrashFigures figures;
};

// Instance 1, instance 2 or both, each a third of the time.
std::vector<int> choose_victims(std::mt19937& random);

// Waits until haproxy has every victim fully UP, kills them with SIGKILL, measures a single kill,
// keeps them down 100-800 ms, restarts them and waits until haproxy has them fully UP again.
// failed() counts the load's failed requests so far (thread-safe).
void crash_cycle(Stack& stack, const std::function<int64_t()>& failed,
                 const std::vector<int>& victims, std::mt19937& random, CrashFigures* figures);

// How long a crash phase lasts: whichever bound comes first.
struct CrashPhase {
  int cycles_max;
  Clock::duration budget;
};

// Crash cycles until the phase ends, each at a random moment 100-600 ms after the last (a pause on
// purpose, not a wait for a state) with victims chosen at random. `before_kill` (if any) runs
// after the victims are chosen, `after_restart` (if any) once they are back; figures->cycles
// counts the cycles.
void crash_cycles(Stack& stack, const std::function<int64_t()>& failed, const CrashPhase& phase,
                  std::mt19937& random, CrashFigures* figures,
                  const std::function<void()>& before_kill = {},
                  const std::function<void()>& after_restart = {});
