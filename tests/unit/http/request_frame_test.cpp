// http::frame_request: where a request ends in a buffer, before cpp-httplib parses it.
#include "http/request_frame.h"

#include <catch2/catch.hpp>
#include <string>

#include "crebito_limits.h"

namespace {

using http::frame_request;
using Status = http::RequestFrame::Status;

const std::string get = "GET /clientes/1/extrato HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string body = R"({"valor":1,"tipo":"c","descricao":"x"})";
const std::string post = "POST /clientes/1/transacoes HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body;

}  // namespace

TEST_CASE("a request without a body ends at the empty line") {
  const std::string buffered = get + "GET /next";
  const http::RequestFrame frame = frame_request(buffered);  // Views into `buffered`.
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == get.size());
  CHECK(frame.request_line == "GET /clientes/1/extrato HTTP/1.1");
}

TEST_CASE("a request is incomplete until every byte of its body is here") {
  for (size_t cut = 0; cut < post.size(); ++cut) {
    INFO(cut);
    CHECK(frame_request(std::string_view(post).substr(0, cut)).status == Status::incomplete);
  }
  const http::RequestFrame frame = frame_request(post + post);
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == post.size());
}

TEST_CASE("header names are matched in any case, values trimmed") {
  const std::string request = "POST /p HTTP/1.1\r\ncOnTeNt-LeNgTh:   3  \r\n\r\nabcdef";
  const http::RequestFrame frame = frame_request(request);
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == request.size() - 3);
}

TEST_CASE(
    "a Content-Length over the body limit, or not a number, ends the request at its headers") {
  const std::string headers =
      "POST /p HTTP/1.1\r\nContent-Length: " + std::to_string(limits::request_body_bytes_max + 1) +
      "\r\n\r\n";
  http::RequestFrame frame = frame_request(headers);
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == headers.size());
  const std::string bad = "POST /p HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}";
  frame = frame_request(bad);
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == bad.size() - 2);
}

TEST_CASE("a chunked body ends after its last chunk and trailers") {
  const std::string request =
      "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\n"
      "Trailer: 1\r\n\r\n";
  for (size_t cut = 0; cut < request.size(); ++cut) {
    INFO(cut);
    CHECK(frame_request(std::string_view(request).substr(0, cut)).status == Status::incomplete);
  }
  const http::RequestFrame frame = frame_request(request + "GET / HTTP/1.1\r\n");
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == request.size());
}

TEST_CASE("what cannot be framed is handed over as is") {
  CHECK(frame_request("POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").status ==
        Status::unframeable);
  CHECK(frame_request("POST /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").status ==
        Status::unframeable);
  CHECK(frame_request(std::string(limits::request_header_bytes_max + 1, 'a')).status ==
        Status::unframeable);
  CHECK(frame_request(std::string(limits::request_header_bytes_max, 'a')).status ==
        Status::incomplete);
}

TEST_CASE("Expect: 100-continue is reported while the body is missing") {
  const std::string headers =
      "POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  CHECK(frame_request(headers).expects_continue);
  CHECK_FALSE(frame_request(headers + "{}").expects_continue);
  CHECK(frame_request(headers + "{}").status == Status::complete);
}

TEST_CASE("bare line feeds end the header block too (cpp-httplib then answers 400)") {
  const http::RequestFrame frame = frame_request("GET / HTTP/1.1\nHost: x\n\n");
  CHECK(frame.status == Status::complete);
  CHECK(frame.length == 24);
}
