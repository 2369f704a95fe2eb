#include "payments/metrics_gauges.h"

#include "clock.h"

namespace payments {

void write_gauges(Payments* payments, const Forwarder& forwarder, metrics::Exposition* out) {
  using Type = metrics::Exposition::Type;
  Consistency queue;
  const bool readable = payments->consistency(&queue) == Outcome::ok;
  out->family("crebito_payments_queue_readable", Type::gauge,
              "1 when this scrape could read the payments queue from the store, else 0.");
  out->sample("crebito_payments_queue_readable", {}, readable ? 1.0 : 0.0);
  if (readable) {
    out->family("crebito_payments_queue", Type::gauge,
                "Unsettled payments in the shared queue, by state: queued (waiting for a "
                "worker), leased (a call in flight), pinned (queued or leased after an unknown "
                "outcome, so repeated on the same processor).");
    out->sample("crebito_payments_queue", {{"state", "queued"}}, static_cast<double>(queue.queued));
    out->sample("crebito_payments_queue", {{"state", "leased"}},
                static_cast<double>(queue.in_flight));
    out->sample("crebito_payments_queue", {{"state", "pinned"}}, static_cast<double>(queue.pinned));
  }

  const int64_t now = clocks::wall_ms();
  const Processor processors[] = {Processor::default_processor, Processor::fallback};
  ProcessorView views[2];
  for (int i = 0; i < 2; ++i) views[i] = forwarder.processor_view(processors[i], now);
  struct Gauge {
    const char* name;
    const char* help;
    double (*value)(const ProcessorView&, int64_t now_ms);
  };
  const Gauge gauges[] = {
      {"crebito_processor_failing", "1 when the last health poll said the processor is failing.",
       [](const ProcessorView& view, int64_t) { return view.failing ? 1.0 : 0.0; }},
      {"crebito_processor_usable",
       "1 when this instance would call the processor now: not failing, and no call of its "
       "failed within the avoidance period.",
       [](const ProcessorView& view, int64_t now_ms) { return usable(view, now_ms) ? 1.0 : 0.0; }},
      {"crebito_processor_min_response_seconds",
       "The processor's minResponseTime from the last health poll.",
       [](const ProcessorView& view, int64_t) { return view.min_response_ms / 1e3; }},
      {"crebito_processor_expected_response_seconds",
       "The response time this instance expects of a new call: minResponseTime or the recent "
       "latency of its own calls, whichever is longer.",
       [](const ProcessorView& view, int64_t) { return expected_ms(view) / 1e3; }},
  };
  for (const Gauge& gauge : gauges) {
    out->family(gauge.name, Type::gauge, gauge.help);
    for (int i = 0; i < 2; ++i) {
      out->sample(gauge.name, {{"processor", processor_name(processors[i])}},
                  gauge.value(views[i], now));
    }
  }
}

}  // namespace payments
