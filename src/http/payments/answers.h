// The JSON bodies the payments face sends (docs/PAYMENTS.md), written by hand like the ledger's
// (http/ledger/answers.h). Amounts go out with two decimals from integer cents (payments/amount.h).
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "payments/payments.h"

namespace http {

// {"default":{"totalRequests":N,"totalAmount":X},"fallback":{...}}
std::string summary_json(const payments::Summary& summary);

// {"accepted":N,"inFlight":N,"oldestUnsettledAcceptedAt":"<ISO-8601>" or null,
//  "oldestUnsettledAgeMs":N,"pinned":N,"queued":N,"retried":N,
//  "settled":{"default":N,"fallback":N},"unsettled":N}, keys in that (alphabetical) order.
std::string consistency_json(const payments::Consistency& consistency);

// {"message":"All payments purged."}
std::string purged_json();

}  // namespace http
