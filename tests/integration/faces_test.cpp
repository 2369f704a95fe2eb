// Each face can be turned off (--faces / CREBITO_FACES): a face that is off answers 404 on every
// one of its routes and starts none of its threads, and the other face works alone.
#include <catch2/catch.hpp>

#include "support/api.h"
#include "support/processor_sim.h"
#include "support/stack.h"
#include "support/temp_dir.h"

namespace {

// Enough forwarding workers that their threads stand out from the instance's few others.
constexpr int payment_workers = 32;

int status_of(const httplib::Result& result) { return result ? result->status : 0; }

}  // namespace

TEST_CASE("with the payments face off, its routes answer 404 and no forwarder thread runs",
          "[integration][faces]") {
  ProcessorPair processors;
  const std::vector<std::string> env =
      processors.urls_env({"CREBITO_PAYMENT_WORKERS=" + std::to_string(payment_workers)});
  int threads_both = 0;
  {
    Stack both(Stack::Options{"", env, "ledger,payments"});
    threads_both = thread_count(both.instance_pid(1));
    CHECK(status_of(both.client()->Get("/payments-summary")) == 200);
  }
  Stack stack(Stack::Options{"", env, "ledger"});
  const int threads_ledger = thread_count(stack.instance_pid(1));
  INFO("threads of an instance: " << threads_both << " with both faces, " << threads_ledger
                                  << " with the ledger alone");
  CHECK(threads_ledger > 0);
  CHECK(threads_ledger < payment_workers);
  CHECK(threads_both - threads_ledger >= payment_workers);

  auto client = stack.client();
  const std::string payment =
      R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1","amount":19.90})";
  CHECK(status_of(client->Post("/payments", payment, "application/json")) == 404);
  CHECK(status_of(client->Get("/payments-summary")) == 404);
  CHECK(status_of(client->Post("/purge-payments", "", "application/json")) == 404);
  CHECK(status_of(client->Get("/payments-consistency")) == 404);
  // The ledger works as ever.
  CHECK(post_transaction(*client, 1, 100, "c", "faces").status == 200);
  CHECK(get_statement(*client, 1).status == 200);
  CHECK(processors.default_sim.summary().requests + processors.fallback_sim.summary().requests ==
        0);
}

TEST_CASE("with the ledger face off, its routes answer 404 and payments are still forwarded",
          "[integration][faces]") {
  ProcessorPair processors;
  Stack stack(Stack::Options{"", processors.urls_env({"CREBITO_PAYMENT_WORKERS=4"}), "payments"});
  auto client = stack.client();
  CHECK(post_transaction(*client, 1, 100, "c", "faces").status == 404);
  CHECK(get_statement(*client, 1).status == 404);
  CHECK(status_of(stack.instance_client(1)->Get("/health")) == 404);
  CHECK(status_of(stack.instance_client(1)->Get("/ready")) == 200);

  const std::string payment =
      R"({"correlationId":"4a7901b8-7d26-4d9d-aa19-4dc1c7cf60b1","amount":19.90})";
  REQUIRE(status_of(client->Post("/payments", payment, "application/json")) == 202);
  const bool forwarded = wait_until(
      [&] {
        return processors.default_sim.summary().requests +
                   processors.fallback_sim.summary().requests ==
               1;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(50));
  CHECK(forwarded);
  const Answer summary = to_answer(client->Get("/payments-summary"));
  REQUIRE(summary.status == 200);
  CHECK(summary.body["default"]["totalRequests"].get<int64_t>() +
            summary.body["fallback"]["totalRequests"].get<int64_t>() ==
        1);
}
