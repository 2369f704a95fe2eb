#include "payments/job_queue.h"

#include <algorithm>

namespace payments {

void JobQueue::put(std::vector<store::PaymentJob>* jobs) {
  const size_t count = jobs->size();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (store::PaymentJob& job : *jobs) jobs_.push_back(std::move(job));
  }
  jobs->clear();
  // One wake-up per job: waking every idle worker would cost dozens of context switches per round
  // for nothing.
  for (size_t i = 0; i < count; ++i) job_put_.notify_one();
}

bool JobQueue::take(store::PaymentJob* job) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++waiting_;
  job_put_.wait(lock, [this] { return !jobs_.empty() || closed_; });
  --waiting_;
  if (jobs_.empty()) return false;
  *job = std::move(jobs_.front());
  jobs_.pop_front();
  return true;
}

int JobQueue::idle_unserved() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return 0;
  return std::max(waiting_ - static_cast<int>(jobs_.size()), 0);
}

void JobQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  job_put_.notify_all();
}

}  // namespace payments
