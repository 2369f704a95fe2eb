// Fixture: laid out like the official rinha-test/rinha-final.js (docs/CHALLENGES.md §3),
// written for scripts/test-k6-official at a small scale: 20 s instead of 300 s, a short fault
// schedule, the same imports by URL (k6-summary, k6-utils, big.js), the same consistency check,
// teardown and score, and the same file written by handleSummary.
import { textSummary } from "https://jslib.k6.io/k6-summary/0.1.0/index.js";
import { uuidv4 } from "https://jslib.k6.io/k6-utils/1.4.0/index.js";
import { sleep } from "k6";
import exec from "k6/execution";
import { Counter } from "k6/metrics";
import {
  token, setPPToken, setPPDelay, setPPFailure, resetPPDatabase, getPPPaymentsSummary,
  resetBackendDatabase, getBackendPaymentsSummary, requestBackendPayment,
} from "./requests.js";
import Big from "https://cdn.jsdelivr.net/npm/big.js@7.0.1/big.min.js";

const MAX_REQUESTS = __ENV.MAX_REQUESTS ?? 60;
const duration = "20s";

// [start, default delay ms, default failing, fallback delay ms, fallback failing]
const schedule = [
  ["1s", 0, false, 0, false],
  ["6s", 100, false, 0, false],
  ["11s", 500, true, 5, false],
  ["16s", 0, false, 5, true],
];

const scenarios = {
  payments: {
    exec: "payments", executor: "ramping-vus", startVUs: 1, gracefulRampDown: "0s",
    stages: [{ target: MAX_REQUESTS, duration }],
  },
  payments_consistency: { exec: "checkPaymentsConsistency", executor: "constant-vus", duration, vus: 1 },
};
schedule.forEach(([startTime, dd, df, fd, ff], i) => {
  scenarios[`stage_0${i}`] = {
    exec: "define_stage", executor: "constant-vus", vus: 1, duration: "1s", startTime,
    tags: { defaultDelay: `${dd}`, defaultFailure: `${df}`, fallbackDelay: `${fd}`, fallbackFailure: `${ff}` },
  };
});
export const options = { summaryTrendStats: ["p(99)", "count"], scenarios };

const counter = (name) => new Counter(name);
const success = counter("transactions_success");
const failure = counter("transactions_failure");
const grossTotal = counter("total_transactions_amount");
const inconsistency = counter("payments_inconsistency");
const totals = {
  default: { amount: counter("default_total_amount"), requests: counter("default_total_requests"), fee: counter("default_total_fee") },
  fallback: { amount: counter("fallback_total_amount"), requests: counter("fallback_total_requests"), fee: counter("fallback_total_fee") },
};
const amount = new Big(20.05);

export async function setup() {
  for (const s of ["default", "fallback"]) await setPPToken(s, token);
  for (const s of ["default", "fallback"]) await resetPPDatabase(s);
  await resetBackendDatabase();
}

export async function payments() {
  const r = await requestBackendPayment({ correlationId: uuidv4(), amount: amount.toNumber() });
  const ok = [200, 201, 202, 204].includes(r.status);
  success.add(ok ? 1 : 0);
  failure.add(ok ? 0 : 1);
  sleep(1);
}

export async function checkPaymentsConsistency() {
  const now = Date.now();
  const from = new Date(now - 15000).toISOString();
  const to = new Date(now - 2000).toISOString();
  const [d, f, backend] = await Promise.all([
    getPPPaymentsSummary("default", from, to),
    getPPPaymentsSummary("fallback", from, to),
    getBackendPaymentsSummary(from, to),
  ]);
  const off = Math.abs(backend.default.totalRequests - d.totalRequests) +
              Math.abs(backend.fallback.totalRequests - f.totalRequests);
  inconsistency.add(off);
  if (off > 0) console.warn(`inconsistency ${off}: backend ${JSON.stringify(backend)}, default ${d.totalRequests}, fallback ${f.totalRequests}`);
  sleep(10);
}

export async function define_stage() {
  const t = exec.vu.metrics.tags;
  await setPPDelay("default", parseInt(t.defaultDelay));
  await setPPDelay("fallback", parseInt(t.fallbackDelay));
  await setPPFailure("default", t.defaultFailure === "true");
  await setPPFailure("fallback", t.fallbackFailure === "true");
  sleep(1);
}

export async function teardown() {
  const to = new Date();
  const from = new Date(to.getTime() - 360 * 1000);
  let gross = new Big(0);
  for (const s of ["default", "fallback"]) {
    const r = await getPPPaymentsSummary(s, from.toISOString(), to.toISOString());
    gross = gross.plus(r.totalAmount);
    totals[s].amount.add(r.totalAmount);
    totals[s].requests.add(r.totalRequests);
    totals[s].fee.add(new Big(r.feePerTransaction).times(r.totalAmount).toNumber());
  }
  grossTotal.add(gross.toNumber());
}

export function handleSummary(data) {
  const count = (name) => data.metrics[name].values.count;
  const fees = new Big(count("default_total_fee")).plus(count("fallback_total_fee")).toNumber();
  const p99 = new Big(data.metrics["http_req_duration{expected_response:true}"].values["p(99)"]).round(2).toNumber();
  const bonus = Math.max(new Big((11 - p99) * 0.02).round(2).toNumber(), 0);
  const fine = count("payments_inconsistency") > 0 ? 0.35 : 0;
  const processed = count("default_total_requests") + count("fallback_total_requests");
  const lag = count("transactions_success") - processed;
  const net = new Big(count("total_transactions_amount")).minus(fees);
  const side = (s) => ({
    total_bruto: count(`${s}_total_amount`), num_pagamentos: count(`${s}_total_requests`),
    total_taxas: count(`${s}_total_fee`), descricao: `payments processed by the ${s} processor`,
  });
  const result = {
    timestamp: new Date().toISOString(),
    participante: __ENV.PARTICIPANT ?? "anonymous",
    total_liquido: net.plus(net.times(bonus)).minus(net.times(fine)).toNumber(),
    total_bruto: count("total_transactions_amount"),
    total_taxas: fees,
    descricao: "total_liquido is the score",
    p99: { valor: `${p99}ms`, bonus: `${new Big(bonus).times(100)}%`, max_requests: MAX_REQUESTS, descricao: "max((11 - p99) * 0.02, 0)" },
    multa: { porcentagem: fine, total: net.times(fine).toNumber(),
             composicao: { num_inconsistencias: count("payments_inconsistency"), descricao: "35% if any" } },
    caixa_dois: { detectado: lag < 0, descricao: "negative lag" },
    lag: { num_pagamentos_total: processed, num_pagamentos_solicitados: count("transactions_success"), lag, descricao: "requested minus processed" },
    pagamentos_solicitados: { qtd_sucesso: count("transactions_success"), qtd_falha: count("transactions_failure"), descricao: "POST /payments" },
    pagamentos_realizados_default: side("default"),
    pagamentos_realizados_fallback: side("fallback"),
  };
  const participant = __ENV.PARTICIPANT;
  const file = participant === undefined ? "./final-results.json" : `../participantes/${participant}/final-results.json`;
  return { stdout: textSummary(data), [file]: JSON.stringify(result, null, 2) };
}
