// payments::JobQueue: each job put is taken once, idle workers without a job are counted for the
// dispatcher, and closing still hands out what was put before.
#include "payments/job_queue.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "payments_fixture.h"

using payments::JobQueue;

namespace {

std::vector<store::PaymentJob> jobs(int first, int count) {
  std::vector<store::PaymentJob> out;
  for (int i = first; i < first + count; ++i) {
    store::PaymentJob job;
    job.id = i;
    out.push_back(job);
  }
  return out;
}

}  // namespace

TEST_CASE("job queue: every job put is taken by exactly one worker", "[unit][payments][jobs]") {
  JobQueue queue;
  std::mutex mutex;
  std::multiset<int64_t> taken;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      store::PaymentJob job;
      while (queue.take(&job)) {
        std::lock_guard<std::mutex> lock(mutex);
        taken.insert(job.id);
      }
    });
  }
  for (int round = 0; round < 50; ++round) {
    auto batch = jobs(round * 8, 8);
    queue.put(&batch);
    CHECK(batch.empty());
  }
  CHECK(wait_until([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return taken.size() == 400;
  }));
  queue.close();
  for (std::thread& worker : workers) worker.join();
  std::set<int64_t> distinct(taken.begin(), taken.end());
  CHECK(taken.size() == 400);
  CHECK(distinct.size() == 400);
}

TEST_CASE("job queue: idle workers that no queued job waits for are what a round may claim",
          "[unit][payments][jobs]") {
  JobQueue queue;
  CHECK(queue.idle_unserved() == 0);
  std::vector<std::thread> workers;
  std::mutex mutex;
  int taken = 0;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&] {
      store::PaymentJob job;
      if (queue.take(&job)) {
        std::lock_guard<std::mutex> lock(mutex);
        ++taken;
      }
    });
  }
  REQUIRE(wait_until([&] { return queue.idle_unserved() == 3; }));
  auto two = jobs(1, 2);
  queue.put(&two);
  // Two workers leave with a job each; one still waits.
  REQUIRE(wait_until([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return taken == 2;
  }));
  CHECK(queue.idle_unserved() == 1);
  queue.close();
  CHECK(queue.idle_unserved() == 0);
  for (std::thread& worker : workers) worker.join();
  CHECK(taken == 2);
}

TEST_CASE("job queue: jobs put before close are still taken, then take says closed",
          "[unit][payments][jobs]") {
  JobQueue queue;
  auto three = jobs(1, 3);
  queue.put(&three);
  queue.close();
  store::PaymentJob job;
  for (int64_t id = 1; id <= 3; ++id) {
    REQUIRE(queue.take(&job));
    CHECK(job.id == id);
  }
  CHECK_FALSE(queue.take(&job));
}
