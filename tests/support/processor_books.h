// The books of the two processor stand-ins (support/processor_sim.h) after a test forwarded
// payments to them: every payment it accepted is held exactly once, by one of the two.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "support/processor_sim.h"

struct ProcessorBooks {
  std::vector<ProcessorSim::Recorded> on_default;
  std::vector<ProcessorSim::Recorded> on_fallback;
};

// Reads both processors' lists (REQUIRE: both answer) and checks that together they hold
// `accepted` correlationIds, each once. Returns the lists for the caller's own checks.
inline ProcessorBooks check_held_once(const ProcessorSim& default_sim,
                                      const ProcessorSim& fallback_sim, int64_t accepted) {
  auto on_default = default_sim.payments();
  auto on_fallback = fallback_sim.payments();
  REQUIRE(on_default);
  REQUIRE(on_fallback);
  std::map<std::string, int> holders;
  for (const auto& r : *on_default) ++holders[r.correlation_id];
  for (const auto& r : *on_fallback) ++holders[r.correlation_id];
  CHECK(holders.size() == static_cast<size_t>(accepted));
  for (const auto& [id, count] : holders) {
    INFO(id);
    CHECK(count == 1);
  }
  return {std::move(*on_default), std::move(*on_fallback)};
}
