// processor-sim's request parser (tools/processor-sim/http_message.h): what it accepts, what it
// refuses and with which status, and that it never reads past its bounds.
#include "http_message.h"

#include <catch2/catch.hpp>
#include <string>

using processor_sim::parse_request;
using processor_sim::ParseResult;
using processor_sim::Request;
using State = ParseResult::State;

namespace {

int refused_with(const std::string& bytes) {
  Request request;
  const ParseResult result = parse_request(bytes, &request);
  return result.state == State::invalid ? result.error_status : 0;
}

}  // namespace

TEST_CASE("a request with a body, then the next one pipelined behind it", "[unit]") {
  const std::string first =
      "POST /payments?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX-Rinha-Token:  123 \r\n\r\n"
      "hello";
  const std::string bytes = first + "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  Request request;
  const ParseResult result = parse_request(bytes, &request);
  REQUIRE(result.state == State::complete);
  CHECK(result.consumed == first.size());
  CHECK(request.method == "POST");
  CHECK(request.path == "/payments");
  CHECK(request.query == "x=1");
  CHECK(request.body == "hello");
  CHECK(request.keep_alive);
  REQUIRE(request.header("x-rinha-token") != nullptr);
  CHECK(*request.header("x-rinha-token") == "123");
}

TEST_CASE("a POST without Content-Length has an empty body", "[unit]") {
  Request request;
  const ParseResult result =
      parse_request("POST /admin/purge-payments HTTP/1.1\r\nHost: a\r\n\r\n", &request);
  REQUIRE(result.state == State::complete);
  CHECK(request.body.empty());
}

TEST_CASE("incomplete until the head and the whole body are in, 100-continue noted", "[unit]") {
  const std::string whole =
      "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc";
  for (size_t size = 0; size < whole.size(); ++size) {
    Request request;
    const ParseResult result = parse_request(whole.substr(0, size), &request);
    CHECK(result.state == State::incomplete);
    CHECK(result.expects_continue == (size >= whole.size() - 3));
  }
  Request request;
  CHECK(parse_request(whole, &request).state == State::complete);
}

TEST_CASE("Connection: close, and HTTP/1.0 closes unless keep-alive", "[unit]") {
  Request request;
  REQUIRE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", &request).state ==
          State::complete);
  CHECK_FALSE(request.keep_alive);
  REQUIRE(parse_request("GET / HTTP/1.0\r\n\r\n", &request).state == State::complete);
  CHECK_FALSE(request.keep_alive);
  REQUIRE(parse_request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &request).state ==
          State::complete);
  CHECK(request.keep_alive);
}

TEST_CASE("malformed heads are refused with the status the server answers", "[unit]") {
  CHECK(refused_with("GET / HTTP/1.1\r\n\r\n") == 400);                        // No Host.
  CHECK(refused_with("get / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);             // Method case.
  CHECK(refused_with("GET nohost HTTP/1.1\r\nHost: a\r\n\r\n") == 400);        // Target.
  CHECK(refused_with("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n") == 400);  // obs-fold.
  CHECK(refused_with("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n") == 400);       // Bare LF.
  CHECK(refused_with("GET / HTTP/1.1\r\nBad Name: a\r\nHost: a\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n") == 400);
  CHECK(refused_with(
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
  CHECK(refused_with("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
  CHECK(refused_with("GET / HTTX/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(refused_with("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
  CHECK(refused_with("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n") == 413);
}

TEST_CASE("heads above the bounds are refused with 431", "[unit]") {
  CHECK(refused_with("GET / HTTP/1.1\r\nHost: a\r\nX: " +
                     std::string(processor_sim::head_bytes_max, 'a')) == 431);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 0; i < processor_sim::headers_max; ++i) many += "X: 1\r\n";
  CHECK(refused_with(many + "\r\n") == 431);
}

TEST_CASE("query parameters are decoded, absent ones are nullopt", "[unit]") {
  using processor_sim::query_param;
  CHECK(query_param("from=2025-07-15T12%3A00%3A00.000Z&to=", "from") == "2025-07-15T12:00:00.000Z");
  CHECK(query_param("from=2025-07-15T12%3A00%3A00.000Z&to=", "to") == "");
  CHECK(query_param("a=1+2", "a") == "1 2");
  CHECK_FALSE(query_param("from=1", "to").has_value());
  CHECK_FALSE(query_param("a=%zz", "a").has_value());
}

TEST_CASE("responses: Content-Length always, Retry-After and Connection: close when asked",
          "[unit]") {
  processor_sim::Response response;
  response.status = 429;
  response.retry_after_s = 5;
  response.body = "Calm down";
  CHECK(processor_sim::serialize_response(response, true) ==
        "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 9\r\nRetry-After: 5\r\n"
        "Connection: close\r\n\r\nCalm down");
}
