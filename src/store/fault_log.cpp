#include "store/fault_log.h"

#include <cstdio>

#include "clock.h"
#include "crebito_limits.h"

namespace store {
void FaultLog::failed(Kind kind, const std::string& error) {
  State& state = states_[static_cast<int>(kind)];
  ++state.failures;
  state.last_failure_us = clocks::steady_us();
  if (state.failing.exchange(true)) return;
  std::fprintf(stderr, "crebito: database %s failing, answering 503 until they work again: %s\n",
               kind == Kind::read ? "reads" : "writes", error.c_str());
}

Status FaultLog::report(Kind kind, Status status) {
  if (status == Status::unavailable) {
    failed(kind, status.message());
  } else if (status == Status::ok || (status == Status::refused && kind == Kind::read)) {
    succeeded(kind);
  }
  return status;
}

void FaultLog::succeeded(Kind kind) {
  State& state = states_[static_cast<int>(kind)];
  if (!state.failing.load(std::memory_order_relaxed)) return;
  if (clocks::steady_us() - state.last_failure_us < int64_t{limits::fault_quiet_ms} * 1000) return;
  if (!state.failing.exchange(false)) return;
  std::fprintf(stderr, "crebito: database %s work again (%lld requests answered 503 meanwhile)\n",
               kind == Kind::read ? "reads" : "writes",
               static_cast<long long>(state.failures.exchange(0)));
}

}  // namespace store
