// Running a helper script from a test and reading what it printed: the one way the test supports
// (pg_cluster.h, ha_cluster.h) drive scripts/pg-cluster and scripts/ha; and starting a long-lived
// child with its output in a log (stack.h's instances and haproxy, processor_sim.h).
// Thread-compatible: each call spawns its own child.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace child_process {

// What happens to err_path when a run starts.
enum class ErrFile { truncate, append };

// Runs argv (argv[0] a path) with stdout into a pipe and stderr into err_path; returns the exit
// status (-1 when it did not exit normally) and stdout in *out. Throws std::runtime_error when it
// cannot be started.
int run(const std::vector<std::string>& argv, const std::string& err_path, ErrFile err_file,
        std::string* out);

// Starts argv (argv[0] a path) without waiting for it, with extra_env before this process's
// environment, stdout and stderr appended to log_path and, when inherit_fd >= 0, that descriptor
// as the child's descriptor inherit_as. Returns its pid; throws std::runtime_error when it cannot
// be started.
pid_t start(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            const std::string& log_path, int inherit_fd = -1, int inherit_as = -1);

// The whole file ("" when it cannot be read).
std::string read_file(const std::string& path);

// text without its trailing newlines and spaces.
std::string trimmed(std::string text);

}  // namespace child_process
