// Fixture: laid out like the official rinha-test/requests.js (docs/CHALLENGES.md §3), written
// for scripts/test-k6-official. HTTP helpers for the backend on :9999 and the two processors on
// :8001 / :8002, all through jslib's httpx, imported by URL as the official file does.
import { Httpx } from "https://jslib.k6.io/httpx/0.1.0/index.js";
import exec from "k6/execution";

const firstToken = "123";
export const token = __ENV.TOKEN ?? firstToken;
const jsonHeaders = { "Content-Type": "application/json" };
const timeoutMs = 1500;

const session = (baseURL, extra) =>
  new Httpx({ baseURL, headers: Object.assign({}, jsonHeaders, extra), timeout: timeoutMs });

const processors = {
  default: session("http://localhost:8001", { "X-Rinha-Token": token }),
  fallback: session("http://localhost:8002", { "X-Rinha-Token": token }),
};
const backend = session("http://localhost:9999", {});

async function adminPut(service, path, body, expected, params) {
  const r = await processors[service].asyncPut(path, JSON.stringify(body), params);
  if (r.status !== expected) exec.test.abort(`PUT ${path} on ${service}: HTTP ${r.status}`);
}

export const setPPToken = (service, value) =>
  adminPut(service, "/admin/configurations/token", { token: value }, 204,
           { headers: { "X-Rinha-Token": firstToken } });
export const setPPDelay = (service, ms) =>
  adminPut(service, "/admin/configurations/delay", { delay: ms }, 200);
export const setPPFailure = (service, failure) =>
  adminPut(service, "/admin/configurations/failure", { failure }, 200);

export async function resetPPDatabase(service) {
  const r = await processors[service].asyncPost("/admin/purge-payments");
  if (r.status !== 200) exec.test.abort(`purge on ${service}: HTTP ${r.status}`);
}

export async function getPPPaymentsSummary(service, from, to) {
  const r = await processors[service].asyncGet(`/admin/payments-summary?from=${from}&to=${to}`);
  if (r.status === 200) return JSON.parse(r.body);
  console.error(`${service} admin summary: HTTP ${r.status}`);
  return { totalAmount: 0, totalRequests: 0, feePerTransaction: 0, totalFee: 0 };
}

export async function resetBackendDatabase() {
  try {
    await backend.asyncPost("/purge-payments");
  } catch (e) {
    console.info("the backend has no purge endpoint; that is allowed", e.message);
  }
}

export async function getBackendPaymentsSummary(from, to) {
  const r = await backend.asyncGet(`/payments-summary?from=${from}&to=${to}`);
  if (r.status === 200) return JSON.parse(r.body);
  console.error(`backend summary: HTTP ${r.status}`);
  const none = { totalAmount: 0, totalRequests: 0 };
  return { default: none, fallback: none };
}

export const requestBackendPayment = (payload) => backend.asyncPost("/payments", JSON.stringify(payload));
