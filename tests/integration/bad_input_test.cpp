// Bad input through haproxy and straight at an instance: every answer is a clear 4xx, never a 5xx,
// and the instances keep serving afterwards.
#include <catch2/catch.hpp>
#include <chrono>

#include "support/api.h"
#include "support/stack.h"

namespace {

// "prefix" + n copies of 'a' + "suffix", built with append: GCC 12 warns falsely (-Wrestrict) on
// chains of operator+ with a temporary std::string.
std::string padded(const char* prefix, size_t n, const char* suffix) {
  std::string text(prefix);
  text.append(n, 'a');
  text.append(suffix);
  return text;
}

void check_still_serving(const Stack& stack) {
  auto client = stack.client();
  CHECK(get_statement(*client, 1).status == 200);
  CHECK(get_statement(*stack.instance_client(1), 1).status == 200);
  CHECK(get_statement(*stack.instance_client(2), 1).status == 200);
}

}  // namespace

TEST_CASE("unknown accounts and malformed ids are 404", "[integration][routes]") {
  Stack stack;
  auto client = stack.client();
  for (const char* id : {"6", "0", "-1", "01", "abc", "1.0", "99999999999999999999", "%36"}) {
    INFO("id " << id);
    CHECK(client->Get((std::string("/clientes/") + id + "/extrato").c_str())->status == 404);
    CHECK(client
              ->Post((std::string("/clientes/") + id + "/transacoes").c_str(),
                     R"({"valor":1,"tipo":"c","descricao":"x"})", "application/json")
              ->status == 404);
  }
  // 404 comes before 422: an unknown account with an invalid body is still 404.
  CHECK(post_transaction(*client, 6, "not json").status == 404);
  check_still_serving(stack);
}

TEST_CASE("unknown routes and methods are 4xx", "[integration][routes]") {
  Stack stack;
  auto client = stack.client();
  CHECK(client->Get("/")->status == 404);
  CHECK(client->Get("/clientes")->status == 404);
  CHECK(client->Get("/clientes/1")->status == 404);
  CHECK(client->Get("/clientes/1/transacoes")->status == 404);
  CHECK(client->Get("/clientes/1/extrato/")->status == 404);
  CHECK(client->Post("/clientes/1/extrato", "{}", "application/json")->status == 404);
  const auto del = client->Delete("/clientes/1/extrato");
  REQUIRE(del);
  CHECK(del->status >= 400);
  CHECK(del->status < 500);
  const auto put = client->Put("/clientes/1/transacoes", "{}", "application/json");
  REQUIRE(put);
  CHECK(put->status >= 400);
  CHECK(put->status < 500);
  check_still_serving(stack);
}

TEST_CASE("invalid bodies are 422 and write nothing", "[integration][validation]") {
  Stack stack;
  auto client = stack.client();
  const char* bodies[] = {
      "",
      "not json",
      "{",
      "[]",
      "null",
      R"({"valor": 1, "tipo": "c"})",
      R"({"valor": 0, "tipo": "c", "descricao": "x"})",
      R"({"valor": -1, "tipo": "d", "descricao": "x"})",
      R"({"valor": 1.0, "tipo": "c", "descricao": "x"})",
      R"({"valor": 1e2, "tipo": "c", "descricao": "x"})",
      R"({"valor": "10", "tipo": "c", "descricao": "x"})",
      R"({"valor": 9007199254740992, "tipo": "c", "descricao": "x"})",
      R"({"valor": 1, "tipo": "C", "descricao": "x"})",
      R"({"valor": 1, "tipo": "c", "descricao": "débitoçãoéé"})",
      "{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"\xC3(\"}",
      "{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"\xff\"}",
  };
  for (const char* body : bodies) {
    INFO(body);
    const Answer answer = post_transaction(*client, 1, body);
    CHECK(answer.status == 422);
    CHECK(answer.body.contains("error"));
  }
  const Answer statement = get_statement(*client, 1);
  CHECK(statement.body["saldo"]["total"] == 0);
  CHECK(statement.body["ultimas_transacoes"].empty());
  // 10 characters in 14 bytes is valid.
  CHECK(post_transaction(*client, 1, R"({"valor": 1, "tipo": "c", "descricao": "débitoçãoé"})")
            .status == 200);
  check_still_serving(stack);
}

TEST_CASE("bodies over 4 KiB are 413, at the limit they are read", "[integration][limits]") {
  Stack stack;
  auto client = stack.client();
  std::string body = R"({"valor": 1, "tipo": "c", "descricao": "x", "pad": ")";
  body.append(4096 - body.size() - 2, 'a');
  body.append("\"}");
  REQUIRE(body.size() == 4096);
  CHECK(post_transaction(*client, 1, body).status == 200);
  body.append(" ");  // 4097 bytes: trailing whitespace is still valid JSON, but one byte too many.
  CHECK(post_transaction(*client, 1, body).status == 413);
  CHECK(post_transaction(*client, 1, std::string(1 << 20, ' ')).status == 413);

  // A huge declared Content-Length is refused without waiting for the body.
  const std::string huge = raw_exchange(stack.host(), stack.port(),
                                        "POST /clientes/1/transacoes HTTP/1.1\r\nHost: "
                                        "x\r\nContent-Length: 99999999999999999999\r\n\r\n");
  CHECK(raw_status(huge) / 100 == 4);
  check_still_serving(stack);
}

TEST_CASE("a POST without Content-Length gets 411 at once, not after a read timeout",
          "[integration][protocol]") {
  Stack stack;
  const auto started = std::chrono::steady_clock::now();
  const std::string response = raw_exchange_unix(
      stack.socket_path(1), "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\n\r\n{}");
  CHECK(raw_status(response) == 411);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
}

TEST_CASE("after a bad request the connection closes instead of parsing leftovers",
          "[integration][protocol]") {
  Stack stack;
  const std::string response = raw_exchange_unix(
      stack.socket_path(1), "GET /clientes/1/extrato HTTP/9.9\r\nHost: x\r\n\r\n");
  CHECK(raw_status(response) == 400);
  CHECK(response.find("HTTP/1.1", 8) == std::string::npos);  // Exactly one answer.
}

TEST_CASE("pipelined requests on one connection are all answered, in order",
          "[integration][protocol]") {
  Stack stack;
  const std::string request = "GET /clientes/2/extrato HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string last =
      "GET /clientes/3/extrato HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::string response = raw_exchange_unix(stack.socket_path(1), request + request + last);
  size_t answers = 0;
  for (size_t at = response.find("HTTP/1.1 200"); at != std::string::npos;
       at = response.find("HTTP/1.1 200", at + 1)) {
    ++answers;
  }
  CHECK(answers == 3);
  CHECK(response.rfind("\"limite\":1000000") != std::string::npos);  // The last was account 3.
}

TEST_CASE("raw protocol abuse gets 4xx and never a 5xx", "[integration][protocol]") {
  Stack stack;
  struct Case {
    const char* name;
    std::string bytes;
  };
  const Case cases[] = {
      {"no Content-Length",
       "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\n\r\n"
       "{\"valor\":1,\"tipo\":\"c\",\"descricao\":\"x\"}"},
      {"garbage request line", "HELLO\r\n\r\n"},
      {"bad version", "GET /clientes/1/extrato HTTP/9.9\r\nHost: x\r\n\r\n"},
      {"oversized Content-Length, no body",
       "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n"},
      {"non-numeric Content-Length",
       "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"},
      {"header without colon", "GET /clientes/1/extrato HTTP/1.1\r\nHost x\r\n\r\n"},
      {"huge header",
       padded("GET /clientes/1/extrato HTTP/1.1\r\nHost: x\r\nX-Big: ", 20000, "\r\n\r\n")},
      {"huge URI", padded("GET /clientes/1/extrato?", 20000, " HTTP/1.1\r\n\r\n")},
      {"bad chunking",
       "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\n"
       "Transfer-Encoding: chunked\r\n\r\nzz\r\n"},
      {"body shorter than Content-Length",
       "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    // Through haproxy, which may normalise some of these (HTTP/9.9 is served as 1.1), and straight
    // at an instance, with nothing in between. Never a 5xx; a closed connection is acceptable.
    CHECK(raw_status(raw_exchange(stack.host(), stack.port(), c.bytes)) < 500);
    CHECK(raw_status(raw_exchange_unix(stack.socket_path(1), c.bytes)) < 500);
  }
  check_still_serving(stack);
  const Answer statement = get_statement(*stack.client(), 1);
  CHECK(statement.body["saldo"]["total"] == 0);
}
