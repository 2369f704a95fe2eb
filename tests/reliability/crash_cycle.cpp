#include "reliability/crash_cycle.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace {

// How long haproxy may take to put a restarted instance back (one good check, every inter) or to
// have one fully UP before a kill: many intervals, for a loaded machine.
constexpr auto back_in_rotation_timeout = std::chrono::seconds(10);
// A single kill not marked DOWN within this many detection bounds is "not detected".
constexpr int not_detected_after_bounds = 3;

std::string server_name(int instance) { return Stack::instance_name(instance); }

}  // namespace

int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

unsigned seed_from_env(const char* variable) {
  const char* text = std::getenv(variable);
  return text ? static_cast<unsigned>(std::stoul(text)) : std::random_device{}();
}

std::string CrashFigures::describe_detection(const Stack::HealthChecks& checks) const {
  char text[320];
  std::snprintf(text, sizeof text,
                "detection of a dead instance: %d detected, max %lld ms, mean %lld ms (bound %lld "
                "ms = fall %d x inter %lld ms + timeout check %lld ms); %d not detected within "
                "%lld ms",
                detected, static_cast<long long>(detection_ms_max),
                static_cast<long long>(detection_ms_mean()),
                static_cast<long long>(checks.detection_bound_ms()), checks.fall,
                static_cast<long long>(checks.inter_ms),
                static_cast<long long>(checks.timeout_check_ms), not_detected,
                static_cast<long long>(not_detected_after_bounds * checks.detection_bound_ms()));
  return text;
}

std::string CrashFigures::describe_run(unsigned seed, int64_t phase_ms,
                                       const Stack::HealthChecks& checks) const {
  char text[200];
  std::snprintf(text, sizeof text, "seed %u, %d cycles, %d kills (%d single) in %lld s; ", seed,
                cycles, kills, single_kills, static_cast<long long>(phase_ms / 1000));
  char failures[200];
  std::snprintf(failures, sizeof failures,
                "; failed requests per single kill max %lld, total %lld; failed while both were "
                "down %lld",
                static_cast<long long>(failures_per_kill_max),
                static_cast<long long>(failures_single_total),
                static_cast<long long>(failures_both_total));
  return text + describe_detection(checks) + failures;
}

void crash_cycles(Stack& stack, const std::function<int64_t()>& failed, const CrashPhase& phase,
                  std::mt19937& random, CrashFigures* figures,
                  const std::function<void()>& before_kill,
                  const std::function<void()>& after_restart) {
  const auto started = Clock::now();
  while (figures->cycles < phase.cycles_max && Clock::now() - started < phase.budget) {
    std::this_thread::sleep_for(milliseconds(100 + random() % 500));
    const std::vector<int> victims = choose_victims(random);
    if (before_kill) before_kill();
    crash_cycle(stack, failed, victims, random, figures);
    if (after_restart) after_restart();
    ++figures->cycles;
  }
}

std::vector<int> choose_victims(std::mt19937& random) {
  const int pattern = static_cast<int>(random() % 3);
  return pattern == 0   ? std::vector<int>{1}
         : pattern == 1 ? std::vector<int>{2}
                        : std::vector{1, 2};
}

void crash_cycle(Stack& stack, const std::function<int64_t()>& failed,
                 const std::vector<int>& victims, std::mt19937& random, CrashFigures* figures) {
  // A victim killed in another state (a check already failed, or not yet back after a restart)
  // would be detected after fewer checks, or never change state at all.
  for (int victim : victims) {
    if (!stack.wait_haproxy_status(victim, "UP", back_in_rotation_timeout)) {
      figures->problems.push_back("haproxy did not have " + server_name(victim) +
                                  " fully UP before the kill (status '" +
                                  stack.haproxy_status(victim) + "')");
    }
  }
  const int64_t failed_before = failed();
  const auto killed_at = Clock::now();
  for (int victim : victims) {
    const int status = stack.stop_instance(victim, SIGKILL);
    if (!WIFSIGNALED(status)) figures->problems.push_back("instance did not die by SIGKILL");
    ++figures->kills;
  }
  if (victims.size() == 1) {
    figures->single_kills += 1;
    const auto wait =
        milliseconds(not_detected_after_bounds * stack.health_checks().detection_bound_ms());
    if (stack.wait_haproxy_status(victims[0], "DOWN", wait)) {
      const int64_t detection_ms = elapsed_ms(killed_at);
      const int64_t failures = failed() - failed_before;
      figures->detected += 1;
      figures->detection_ms_max = std::max(figures->detection_ms_max, detection_ms);
      figures->detection_ms_total += detection_ms;
      figures->failures_per_kill_max = std::max(figures->failures_per_kill_max, failures);
      figures->failures_single_total += failures;
    } else {
      figures->not_detected += 1;
      figures->problems.push_back("haproxy had not marked " + server_name(victims[0]) + " DOWN " +
                                  std::to_string(wait.count()) + " ms after its kill (status '" +
                                  stack.haproxy_status(victims[0]) + "')");
    }
  }
  // Everything down for a random while (both), or the survivor alone (single): the scenario.
  std::this_thread::sleep_for(milliseconds(100 + random() % 700));
  for (int victim : victims) stack.restart_instance(victim);
  // The next cycle starts with both in rotation.
  for (int victim : victims) {
    if (!stack.wait_haproxy_status(victim, "UP", back_in_rotation_timeout)) {
      figures->problems.push_back("haproxy did not put " + server_name(victim) +
                                  " back in rotation (status '" + stack.haproxy_status(victim) +
                                  "')");
    }
  }
  if (victims.size() == 2) figures->failures_both_total += failed() - failed_before;
}
