#include "process.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace process {

namespace {

// How often the signal thread looks whether serve() has returned by itself, and how often a stop
// is repeated until it has.
constexpr timespec signal_poll_interval{0, 100'000'000};
constexpr auto stop_retry_interval = std::chrono::milliseconds(10);

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

void stop_on_signal(const StopHooks& hooks, const std::atomic<bool>* finished) {
  const sigset_t signals = stop_signals();
  while (!*finished) {
    const int signal = sigtimedwait(&signals, nullptr, &signal_poll_interval);
    if (signal < 0) continue;
    if (signal == SIGTERM && hooks.drain_ms > 0) {
      std::fprintf(stderr, "%s: SIGTERM received, draining for %d ms (health answers 503)\n",
                   hooks.name.c_str(), hooks.drain_ms);
      hooks.begin_drain();
      const timespec drain{hooks.drain_ms / 1000, (hooks.drain_ms % 1000) * 1'000'000L};
      sigtimedwait(&signals, nullptr, &drain);
    }
    std::fprintf(stderr, "%s: %s received, finishing in-flight requests\n", hooks.name.c_str(),
                 signal == SIGTERM ? "SIGTERM" : "SIGINT");
    while (!*finished) {
      hooks.stop();
      std::this_thread::sleep_for(stop_retry_interval);
    }
  }
}

}  // namespace

void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool serve_until_stop_signal(const std::function<bool()>& serve, const StopHooks& hooks) {
  std::atomic<bool> finished{false};
  std::thread signal_thread(stop_on_signal, std::cref(hooks), &finished);
  const bool served = serve();
  finished = true;
  signal_thread.join();
  return served;
}

}  // namespace process
