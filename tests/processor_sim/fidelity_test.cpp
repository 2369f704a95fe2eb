// processor-sim answers as the official payment processor does (docs/CHALLENGES.md §2; the
// points are listed in docs/PAYMENTS.md, "What processor-sim reproduces"). One test per point,
// each against a fresh processor-sim, over plain sockets so that status lines, headers and bodies
// are seen exactly as sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/processor_sim.h"
#include "support/raw_http.h"
#include "support/temp_dir.h"
#include "support/wait_until.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int timeout_ms = 5000;
const std::string token_header = "X-Rinha-Token: 123\r\n";
const std::string json_header = "Content-Type: application/json\r\n";

struct Sim {
  explicit Sim(const std::vector<std::string>& args = {})
      : sim("0.07", logs.file("processor.log"), args) {}
  TempDir logs;
  ProcessorSim sim;

  raw_http::Answer send(const std::string& bytes, int wait_ms = timeout_ms) const {
    return raw_http::request(sim.port(), bytes, wait_ms);
  }
  raw_http::Answer pay(const std::string& id, const std::string& amount,
                       const std::string& requested_at = "2025-07-15T12:00:00.000Z") const {
    std::string body = R"({"correlationId":")" + id + R"(","amount":)" + amount;
    if (!requested_at.empty()) body += R"(,"requestedAt":")" + requested_at + '"';
    body += '}';
    return send(raw_http::format("POST", "/payments", json_header, std::string_view(body)));
  }
  raw_http::Answer admin(const std::string& method, const std::string& path,
                         std::optional<std::string> body = std::nullopt,
                         const std::string& token = token_header) const {
    return send(raw_http::format(method, path, token + (body ? json_header : ""),
                                 body ? std::optional<std::string_view>(*body) : std::nullopt));
  }
  json summary(const std::string& query = "") const {
    const raw_http::Answer answer = admin("GET", "/admin/payments-summary" + query);
    REQUIRE(answer.status == 200);
    return json::parse(answer.body);
  }
};

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// How often a wait polls (support/wait_until.h): the simulator's state changes within
// microseconds.
constexpr auto poll_interval = std::chrono::milliseconds(2);

// What the sim has done with its connections, as the kernel shows it (/proc/net/tcp and tcp6): one
// row per socket, the sim's side of a connection included.
struct TcpRow {
  int local_port = 0;
  int remote_port = 0;
  int state = 0;             // The kernel's TCP state.
  unsigned long unread = 0;  // Bytes received that the socket's owner has not read yet.
};
constexpr int tcp_established = 0x01;
constexpr int tcp_close_wait = 0x08;  // The peer closed; the owner has not closed yet.

std::vector<TcpRow> tcp_rows() {
  std::vector<TcpRow> rows;
  for (const char* table_path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream table(table_path);
    std::string line;
    std::getline(table, line);  // The column names.
    while (std::getline(table, line)) {
      // sl local_address rem_address st tx_queue:rx_queue ...; an address ends in :PORT (hex).
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues;
      if (!(fields >> slot >> local >> remote >> state >> queues)) continue;
      const auto after_colon = [](const std::string& field) {
        return std::stoul(field.substr(field.rfind(':') + 1), nullptr, 16);
      };
      rows.push_back({static_cast<int>(after_colon(local)), static_cast<int>(after_colon(remote)),
                      std::stoi(state, nullptr, 16), after_colon(queues)});
    }
  }
  return rows;
}

int local_port_of(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  return ntohs(address.sin_port);
}

// The sim has read everything sent on the client connection fd, and so handled it: it reads and
// dispatches in one turn of its single event loop, before it reads another connection.
bool sim_has_read(const Sim& s, int fd) {
  const int client_port = local_port_of(fd);
  for (const TcpRow& row : tcp_rows()) {
    if (row.local_port == s.sim.port() && row.remote_port == client_port) return row.unread == 0;
  }
  return false;
}

// The connections the sim still holds: established, or closed by the client but not yet by it.
int sim_connections(const Sim& s) {
  int count = 0;
  for (const TcpRow& row : tcp_rows()) {
    count += row.local_port == s.sim.port() &&
             (row.state == tcp_established || row.state == tcp_close_wait);
  }
  return count;
}

}  // namespace

TEST_CASE("POST /payments: 200 with its message, then 422 for the same correlationId",
          "[fidelity]") {
  Sim s;
  const raw_http::Answer first = s.pay("11111111-1111-4111-8111-111111111111", "20.05");
  CHECK(first.status == 200);
  CHECK(first.header("Content-Type") == "application/json; charset=utf-8");
  CHECK(first.body == R"({"message":"payment processed successfully"})");
  const raw_http::Answer again = s.pay("11111111-1111-4111-8111-111111111111", "20.05");
  CHECK(again.status == 422);
  CHECK(json::parse(again.body)["message"].get<std::string>().rfind(
            "Payment could not be processed. CorrelationId already exists: "
            "11111111-1111-4111-8111-111111111111",
            0) == 0);
  CHECK(s.summary()["totalRequests"] == 1);
}

TEST_CASE("POST /payments: the delay comes first, and a client that gave up is still recorded",
          "[fidelity]") {
  Sim s;
  REQUIRE(s.admin("PUT", "/admin/configurations/delay", R"({"delay":400})").status == 200);
  auto start = Clock::now();
  CHECK(s.pay("a", "1.00").status == 200);
  CHECK(elapsed_ms(start) >= 400);
  // This client stops waiting after 100 ms and closes; the payment is recorded all the same.
  start = Clock::now();
  CHECK(s.send(raw_http::format("POST", "/payments", json_header,
                                std::string_view(R"({"correlationId":"b","amount":2.00,)"
                                                 R"("requestedAt":"2025-07-15T12:00:00.000Z"})")),
               100)
            .status == 0);
  // Recorded once its delay has passed: wait for it, with a deadline well past the delay.
  CHECK(wait_until([&] { return s.summary()["totalRequests"] == 2; },
                   std::chrono::milliseconds(timeout_ms), poll_interval));
}

TEST_CASE("POST /payments while failing: 500 with an empty body after the delay, not recorded",
          "[fidelity]") {
  Sim s;
  REQUIRE(s.admin("PUT", "/admin/configurations/delay", R"({"delay":300})").status == 200);
  REQUIRE(s.admin("PUT", "/admin/configurations/failure", R"({"failure":true})").status == 200);
  const auto start = Clock::now();
  const raw_http::Answer answer = s.pay("c", "3.00");
  CHECK(answer.status == 500);
  CHECK(answer.body.empty());
  CHECK(elapsed_ms(start) >= 300);
  CHECK(s.summary()["totalRequests"] == 0);
}

TEST_CASE("POST /payments with a body it cannot bind: 400 at once, before any delay",
          "[fidelity]") {
  Sim s;
  REQUIRE(s.admin("PUT", "/admin/configurations/delay", R"({"delay":2000})").status == 200);
  const auto start = Clock::now();
  CHECK(s.send(raw_http::format("POST", "/payments", json_header, std::string_view("{nope")))
            .status == 400);
  CHECK(s.send(raw_http::format("POST", "/payments")).status == 400);  // No body at all.
  CHECK(s.pay("d", "1.00", "yesterday").status == 400);
  CHECK(s.pay("e", R"("1.00")").status == 400);
  CHECK(elapsed_ms(start) < 1000);
}

TEST_CASE("POST /payments without requestedAt: recorded at 0001-01-01, outside every window",
          "[fidelity]") {
  Sim s;
  CHECK(s.pay("f", "5.00", "").status == 200);
  CHECK(s.summary()["totalRequests"] == 1);
  CHECK(s.summary("?from=1970-01-01T00:00:00.000Z&to=2999-01-01T00:00:00.000Z")["totalRequests"] ==
        0);
}

TEST_CASE("amounts: decimal.Round half to even, exact sums, fee = totalAmount x fee",
          "[fidelity]") {
  Sim s;
  const json empty = s.summary();
  CHECK(s.admin("GET", "/admin/payments-summary").body ==
        R"({"totalAmount":0,"totalRequests":0,"totalFee":0.00,"feePerTransaction":0.07})");
  CHECK(empty["totalAmount"] == 0);
  REQUIRE(s.pay("g1", "20.005").status == 200);  // Half to even: 20.00.
  REQUIRE(s.pay("g2", "20.015").status == 200);  // 20.02.
  REQUIRE(s.pay("g3", "20.05").status == 200);
  // 60.07 exactly; the fee is 60.07 x 0.07 = 4.2049, not a rounded double.
  CHECK(s.admin("GET", "/admin/payments-summary").body ==
        R"({"totalAmount":60.07,"totalRequests":3,"totalFee":4.2049,"feePerTransaction":0.07})");
  const raw_http::Answer one = s.send(raw_http::format("GET", "/payments/g1"));
  CHECK(one.status == 200);
  CHECK(json::parse(one.body)["amount"] == 20.0);
}

TEST_CASE("admin summary: inclusive bounds, both or none, 400 for a bad one", "[fidelity]") {
  Sim s;
  REQUIRE(s.pay("h1", "1.00", "2025-07-15T12:00:00.000Z").status == 200);
  REQUIRE(s.pay("h2", "2.00", "2025-07-15T12:00:01.000Z").status == 200);
  REQUIRE(s.pay("h3", "4.00", "2025-07-15T12:00:02.000Z").status == 200);
  CHECK(s.summary("?from=2025-07-15T12:00:00.000Z&to=2025-07-15T12:00:01.000Z")["totalRequests"] ==
        2);
  CHECK(s.summary("?from=2025-07-15T12:00:01.000Z&to=2025-07-15T12:00:01.000Z")["totalAmount"] ==
        2.0);
  // One bound alone, or an empty one, filters nothing (BETWEEN ... OR @from IS NULL OR @to IS
  // NULL).
  CHECK(s.summary("?from=2025-07-15T12:00:02.000Z")["totalRequests"] == 3);
  CHECK(s.summary("?from=&to=")["totalRequests"] == 3);
  CHECK(
      s.summary(
          "?from=2025-07-15T12%3A00%3A02.000Z&to=2025-07-15T12%3A00%3A02.000Z")["totalRequests"] ==
      1);
  CHECK(s.admin("GET", "/admin/payments-summary?from=noon&to=2025-07-15T12:00:02.000Z").status ==
        400);
}

TEST_CASE("admin token: 401 with an empty body without it, PUT token replaces it (204)",
          "[fidelity]") {
  Sim s;
  for (const std::string& token : {std::string(), std::string("X-Rinha-Token: 12\r\n")}) {
    const raw_http::Answer refused = s.admin("GET", "/admin/payments-summary", std::nullopt, token);
    CHECK(refused.status == 401);
    CHECK(refused.body.empty());
    CHECK(s.admin("POST", "/admin/purge-payments", std::nullopt, token).status == 401);
    CHECK(s.admin("PUT", "/admin/configurations/delay", R"({"delay":1})", token).status == 401);
  }
  // The input is read before the token is checked: a bad one is 400 whatever the token.
  const std::string wrong = "X-Rinha-Token: 12\r\n";
  CHECK(s.admin("PUT", "/admin/configurations/delay", R"({"delay":"x"})", wrong).status == 400);
  CHECK(s.admin("PUT", "/admin/configurations/token", "{}", wrong).status == 400);
  CHECK(s.admin("GET", "/admin/payments-summary?from=x&to=y", std::nullopt, wrong).status == 400);
  const raw_http::Answer set = s.admin("PUT", "/admin/configurations/token", R"({"token":"abc"})");
  CHECK(set.status == 204);
  CHECK(set.body.empty());
  CHECK(s.admin("GET", "/admin/payments-summary").status == 401);
  CHECK(s.admin("GET", "/admin/payments-summary", std::nullopt, "X-Rinha-Token: abc\r\n").status ==
        200);
}

TEST_CASE("admin delay and failure: 200 with config, was and is", "[fidelity]") {
  Sim s;
  raw_http::Answer answer = s.admin("PUT", "/admin/configurations/delay", R"({"delay":1000})");
  CHECK(answer.status == 200);
  CHECK(answer.body == R"({"config":"delay","was":0,"is":1000})");
  answer = s.admin("PUT", "/admin/configurations/failure", R"({"failure":true})");
  CHECK(answer.status == 200);
  CHECK(json::parse(answer.body) == json{{"config", "failure"}, {"was", false}, {"is", true}});
  CHECK(s.admin("PUT", "/admin/configurations/delay", R"({"delay":"slow"})").status == 400);
  CHECK(s.admin("PUT", "/admin/configurations/delay", R"({"delay":3000000000})").status == 400);
}

TEST_CASE("admin purge: a POST without a body or Content-Length answers 200 and empties",
          "[fidelity]") {
  Sim s;
  REQUIRE(s.pay("i", "1.00").status == 200);
  // What `curl -X POST .../admin/purge-payments` sends.
  const raw_http::Answer purged =
      s.send("POST /admin/purge-payments HTTP/1.1\r\nHost: 127.0.0.1\r\n" + token_header + "\r\n");
  CHECK(purged.status == 200);
  CHECK(purged.body == R"({"message":"All payments purged."})");
  CHECK(s.summary()["totalRequests"] == 0);
}

TEST_CASE("health: 200 with the flags, also when failing, one per window, two held, then 429",
          "[fidelity]") {
  constexpr int window_ms = 1000;
  Sim s({"--health-window-ms", std::to_string(window_ms)});
  REQUIRE(s.admin("PUT", "/admin/configurations/delay", R"({"delay":250})").status == 200);
  REQUIRE(s.admin("PUT", "/admin/configurations/failure", R"({"failure":true})").status == 200);
  const std::string health = raw_http::format("GET", "/payments/service-health");
  const raw_http::Answer first = s.send(health);
  const auto window_start = Clock::now();
  CHECK(first.status == 200);
  CHECK(first.body == R"({"failing":true,"minResponseTime":250})");
  // Within the window: two more are held until the next windows (each sent once the sim has read
  // the one before, so that they arrive in this order), the rest refused at once.
  const int held[2] = {raw_http::connect_to(s.sim.port(), timeout_ms),
                       raw_http::connect_to(s.sim.port(), timeout_ms)};
  for (const int fd : held) {
    REQUIRE(fd >= 0);
    REQUIRE(::send(fd, health.data(), health.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(health.size()));
    REQUIRE(wait_until([&] { return sim_has_read(s, fd); }, std::chrono::milliseconds(timeout_ms),
                       poll_interval));
  }
  const auto refused_at = Clock::now();
  const raw_http::Answer refused = s.send(health);
  CHECK(elapsed_ms(refused_at) < window_ms / 2);
  CHECK(refused.status == 429);
  CHECK(refused.header("Retry-After") == "1");  // The window in whole seconds, at least 1.
  CHECK(refused.body == "Calm down, bitch. Try again later.");
  for (int i = 0; i < 2; ++i) {
    CHECK(raw_http::exchange(held[i], "", 3 * window_ms).status == 200);
    CHECK(elapsed_ms(window_start) >= (i + 1) * window_ms - 150);
    ::close(held[i]);
  }
}

TEST_CASE("permits: the cap, then a FIFO queue, then 429 with Retry-After", "[fidelity]") {
  constexpr int delay_ms = 500;
  Sim s({"--permits", "2", "--permit-queue", "1"});
  REQUIRE(
      s.admin("PUT", "/admin/configurations/delay", "{\"delay\":" + std::to_string(delay_ms) + "}")
          .status == 200);
  // Three payments, each sent once the sim has read the one before: two take the permits, the
  // third waits in the queue.
  int payers[3];
  const auto start = Clock::now();
  for (int i = 0; i < 3; ++i) {
    payers[i] = raw_http::connect_to(s.sim.port(), timeout_ms);
    REQUIRE(payers[i] >= 0);
    const std::string body = R"({"correlationId":"p)" + std::to_string(i) +
                             R"(","amount":1.00,"requestedAt":"2025-07-15T12:00:00.000Z"})";
    const std::string bytes =
        raw_http::format("POST", "/payments", json_header, std::string_view(body));
    REQUIRE(::send(payers[i], bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
    REQUIRE(wait_until([&] { return sim_has_read(s, payers[i]); },
                       std::chrono::milliseconds(timeout_ms), poll_interval));
  }
  const auto refused_at = Clock::now();
  const raw_http::Answer refused = s.pay("p3", "1.00");
  CHECK(elapsed_ms(refused_at) < delay_ms / 2);
  CHECK(refused.status == 429);
  CHECK(refused.header("Retry-After") == "5");
  for (int i = 0; i < 3; ++i) {
    CHECK(raw_http::exchange(payers[i], "", 4 * delay_ms).status == 200);
    ::close(payers[i]);
  }
  CHECK(elapsed_ms(start) >= 2 * delay_ms - 50);  // The third: queued behind one, then its delay.
  CHECK(s.summary()["totalRequests"] == 3);
  // Admin calls and health are outside the cap.
  CHECK(s.admin("GET", "/admin/payments-summary").status == 200);
}

TEST_CASE("GET /payments/{id}: the record or 404, unknown paths 404, other methods 405",
          "[fidelity]") {
  Sim s;
  REQUIRE(s.pay("22222222-2222-4222-8222-222222222222", "7.50").status == 200);
  const raw_http::Answer found =
      s.send(raw_http::format("GET", "/payments/22222222-2222-4222-8222-222222222222"));
  CHECK(found.status == 200);
  const json record = json::parse(found.body);
  CHECK(record["correlationId"] == "22222222-2222-4222-8222-222222222222");
  CHECK(record["amount"] == 7.5);
  CHECK(s.send(raw_http::format("GET", "/payments/33333333-3333-4333-8333-333333333333")).status ==
        404);
  CHECK(s.send(raw_http::format("GET", "/nowhere")).status == 404);
  CHECK(s.send(raw_http::format("GET", "/payments")).status == 405);
  CHECK(s.send(raw_http::format("DELETE", "/admin/purge-payments", token_header)).status == 405);
  CHECK(s.send(raw_http::format("GET", "/")).status == 200);
}

TEST_CASE("keep-alive, pipelining and a request that breaks the rules", "[fidelity]") {
  Sim s;
  const int fd = raw_http::connect_to(s.sim.port(), timeout_ms);
  REQUIRE(fd >= 0);
  // Two requests in one write: answered in order on the same connection.
  const std::string two = raw_http::format("GET", "/payments/service-health") +
                          raw_http::format("GET", "/admin/payments-summary", token_header);
  const std::vector<raw_http::Answer> answers = raw_http::exchange_many(fd, two, 2, timeout_ms);
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].body == R"({"failing":false,"minResponseTime":0})");
  CHECK(answers[1].body.find("totalRequests") != std::string::npos);
  CHECK(raw_http::exchange(fd, "GET / HTTP/1.1\r\n\r\n", timeout_ms).status == 400);  // No Host.
  ::close(fd);
  CHECK(s.send("GET / HTTP/2.0\r\nHost: x\r\n\r\n").status == 505);
  CHECK(s.send("POST /payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            .status == 501);
  CHECK(s.send("POST /payments HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n").status ==
        413);
}

TEST_CASE("beyond --connections a new connection is closed at once, the others still answer",
          "[fidelity]") {
  Sim s({"--connections", "2"});
  REQUIRE(wait_until([&] { return sim_connections(s) == 0; }, std::chrono::milliseconds(timeout_ms),
                     poll_interval));  // The start-up call's has ended.
  const int first = raw_http::connect_to(s.sim.port(), timeout_ms);
  const int second = raw_http::connect_to(s.sim.port(), timeout_ms);
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);
  const std::string health = raw_http::format("GET", "/payments/service-health");
  CHECK(raw_http::exchange(first, health, timeout_ms).status == 200);
  CHECK(s.send(raw_http::format("GET", "/admin/payments-summary", token_header)).status == 0);
  ::close(first);
  REQUIRE(wait_until([&] { return sim_connections(s) == 1; }, std::chrono::milliseconds(timeout_ms),
                     poll_interval));  // The close reached the loop.
  CHECK(s.send(raw_http::format("GET", "/admin/payments-summary", token_header)).status == 200);
  ::close(second);
}

TEST_CASE("SIGTERM: a payment in its delay is still answered, with Connection: close",
          "[fidelity]") {
  Sim s;
  REQUIRE(s.admin("PUT", "/admin/configurations/delay", R"({"delay":300})").status == 200);
  const int payer = raw_http::connect_to(s.sim.port(), timeout_ms);
  REQUIRE(payer >= 0);
  const std::string body = R"({"correlationId":"t","amount":1.00,)"
                           R"("requestedAt":"2025-07-15T12:00:00.000Z"})";
  const std::string bytes =
      raw_http::format("POST", "/payments", json_header, std::string_view(body));
  REQUIRE(::send(payer, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
  REQUIRE(wait_until([&] { return sim_has_read(s, payer); }, std::chrono::milliseconds(timeout_ms),
                     poll_interval));  // In its delay now.
  ::kill(s.sim.pid(), SIGTERM);
  const raw_http::Answer answer = raw_http::exchange(payer, "", timeout_ms);
  ::close(payer);
  CHECK(answer.status == 200);
  CHECK(answer.header("Connection") == "close");
}
