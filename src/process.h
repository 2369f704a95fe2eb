// Start-up and stop shared by crebito's executables (crebito, crebito-null, processor-sim): the
// stop signals taken away from every thread but the one that waits for them, and a server run
// until SIGTERM or SIGINT.
//
// Call block_stop_signals() before any thread starts, so that every thread inherits the mask.
#pragma once

#include <functional>
#include <string>

namespace process {

// Blocks SIGTERM and SIGINT in the calling thread (and so in every thread it starts later): they
// are then taken by sigwait/sigtimedwait or a signalfd, never by a handler. Ignores SIGPIPE: a
// peer that closes its connection is an error of that send, not the end of the process.
void block_stop_signals();

struct StopHooks {
  // On SIGTERM, drain_ms of begin_drain() first (the load balancer takes the instance out of
  // rotation), cut short by a second signal; 0, or SIGINT: stop at once.
  int drain_ms = 0;
  std::function<void()> begin_drain;
  // Makes serve() return; called repeatedly until it has.
  std::function<void()> stop;
  // Names the process in the lines logged when a signal arrives.
  std::string name;
};

// Runs serve() on the calling thread while another thread waits for SIGTERM or SIGINT and then
// stops it as `hooks` say. Returns what serve() returned. REQUIRES: block_stop_signals() was
// called first.
bool serve_until_stop_signal(const std::function<bool()>& serve, const StopHooks& hooks);

}  // namespace process
