#include "reliability/crash_cycle.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto haproxy_state_timeout = std::chrono::seconds(10);
constexpr auto log_poll_interval = milliseconds(5);

size_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::string read_from(const std::string& path, size_t offset) {
  std::ifstream file(path);
  file.seekg(static_cast<std::streamoff>(offset));
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::string server_line(int instance, const char* state) {
  return std::string("instances/api0") + std::to_string(instance) + " is " + state;
}

// Waits until haproxy logs `state` for the instance after byte `offset` of its log; false after
// haproxy_state_timeout.
bool wait_for_state(const std::string& log, size_t offset, int instance, const char* state) {
  const auto deadline = Clock::now() + haproxy_state_timeout;
  while (Clock::now() < deadline) {
    if (read_from(log, offset).find(server_line(instance, state)) != std::string::npos) return true;
    std::this_thread::sleep_for(log_poll_interval);
  }
  return false;
}

// Waits until haproxy has the instance in rotation: its last state line, if any, is UP.
bool wait_in_rotation(const std::string& log, int instance) {
  const auto deadline = Clock::now() + haproxy_state_timeout;
  while (Clock::now() < deadline) {
    const std::string text = read_from(log, 0);
    const size_t down = text.rfind(server_line(instance, "DOWN"));
    const size_t up = text.rfind(server_line(instance, "UP"));
    if (down == std::string::npos || (up != std::string::npos && up > down)) return true;
    std::this_thread::sleep_for(log_poll_interval);
  }
  return false;
}

}  // namespace

int64_t elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

unsigned seed_from_env(const char* variable) {
  const char* text = std::getenv(variable);
  return text ? static_cast<unsigned>(std::stoul(text)) : std::random_device{}();
}

std::vector<int> choose_victims(std::mt19937& random) {
  const int pattern = static_cast<int>(random() % 3);
  return pattern == 0   ? std::vector<int>{1}
         : pattern == 1 ? std::vector<int>{2}
                        : std::vector{1, 2};
}

void crash_cycle(Stack& stack, const std::function<int64_t()>& failed,
                 const std::vector<int>& victims, std::mt19937& random, CrashFigures* figures) {
  const std::string haproxy_log = stack.log_path("haproxy");
  const size_t offset = file_bytes(haproxy_log);
  const int64_t failed_before = failed();
  const auto killed_at = Clock::now();
  for (int victim : victims) {
    const int status = stack.stop_instance(victim, SIGKILL);
    if (!WIFSIGNALED(status)) figures->problems.push_back("instance did not die by SIGKILL");
    ++figures->kills;
  }
  if (victims.size() == 1) {
    if (!wait_for_state(haproxy_log, offset, victims[0], "DOWN")) {
      figures->problems.push_back("haproxy never marked " + server_line(victims[0], "DOWN"));
    }
    const int64_t detection_ms = elapsed_ms(killed_at);
    const int64_t failures = failed() - failed_before;
    figures->single_kills += 1;
    figures->detection_ms_max = std::max(figures->detection_ms_max, detection_ms);
    figures->detection_ms_total += detection_ms;
    figures->failures_per_kill_max = std::max(figures->failures_per_kill_max, failures);
    figures->failures_single_total += failures;
  }
  // Everything down for a random while (both), or the survivor alone (single).
  std::this_thread::sleep_for(milliseconds(100 + random() % 700));
  for (int victim : victims) stack.restart_instance(victim);
  // The next cycle starts with both in rotation. A check that failed just before the restart may
  // still mark an instance DOWN: look twice.
  for (int look = 0; look < 2; ++look) {
    for (int victim : victims) {
      if (!wait_in_rotation(haproxy_log, victim)) {
        figures->problems.push_back("haproxy never put api0" + std::to_string(victim) +
                                    " back in rotation");
      }
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  if (victims.size() == 2) figures->failures_both_total += failed() - failed_before;
}
