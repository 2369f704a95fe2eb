// payments::write_gauges: the payments face's part of an instance's GET /metrics
// (docs/METRICS.md): the durable queue's state, read from the store at scrape time (one query, on
// the scrape's own thread, never on a request's), and each processor's health as this instance's
// forwarder sees it when it chooses one.
#pragma once

#include "metrics/exposition.h"
#include "payments/forwarder.h"
#include "payments/payments.h"

namespace payments {

// Appends the families crebito_payments_queue, crebito_payments_queue_readable and
// crebito_processor_* to *out. Thread-safe as Payments::consistency() and Forwarder are.
void write_gauges(Payments* payments, const Forwarder& forwarder, metrics::Exposition* out);

}  // namespace payments
