#include "reliability/load.h"

#include <random>

#include "support/api.h"
#include "support/stack.h"

Load::Load(ClientFactory make_client, int threads, char prefix)
    : make_client_(std::move(make_client)), prefix_(prefix), sent_(static_cast<size_t>(threads)) {
  for (int t = 0; t < threads; ++t) threads_.emplace_back(&Load::run, this, t);
}

Load::~Load() {
  if (!threads_.empty()) stop();
}

Journal Load::stop() {
  stopping_ = true;
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  Journal journal;
  for (std::vector<Sent>& sent : sent_) journal.merge(std::move(sent));
  sent_.clear();
  return journal;
}

bool Load::wait_for_successes(int64_t more, std::chrono::milliseconds timeout) const {
  const int64_t before = succeeded();
  return wait_until([&] { return succeeded() >= before + more; }, timeout,
                    std::chrono::milliseconds(5));
}

void Load::run(int thread) {
  std::mt19937 random(static_cast<unsigned>(thread) * 7919u + static_cast<unsigned>(prefix_));
  std::unique_ptr<httplib::Client> client = make_client_();
  std::vector<Sent>& sent = sent_[static_cast<size_t>(thread)];
  for (int sequence = 0; !stopping_; ++sequence) {
    Sent s;
    s.description = unique_description(prefix_, thread, sequence);
    s.account = 1 + static_cast<int>(random() % 5);
    s.amount_cents = 1 + static_cast<int64_t>(random() % 5000);
    s.kind = random() % 2 ? 'c' : 'd';
    s.started = std::chrono::steady_clock::now();
    s.status = post_transaction(*client, s.account, s.amount_cents, s.kind == 'c' ? "c" : "d",
                                s.description)
                   .status;
    s.answered = std::chrono::steady_clock::now();
    if (s.status != 200 && s.status != 422) ++failed_;
    ++answered_;
    sent.push_back(std::move(s));
  }
}
