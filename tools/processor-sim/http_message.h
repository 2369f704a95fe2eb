// processor-sim's HTTP/1.1 wire format: a strict, bounded request parser and the response writer.
// Pure functions over bytes; no I/O, no state, thread-safe.
//
// What parse_request accepts: "METHOD /target HTTP/1.1" (or 1.0), header lines ending in CRLF, a
// blank line, then exactly Content-Length bytes of body (none without Content-Length, as RFC 9112
// §6.3 says for a request). HTTP/1.1 needs a Host header. What it refuses, and the status the
// server answers before closing the connection:
//   400  a malformed request line or header line (obs-fold, bare LF, control bytes, a bad or
//        conflicting Content-Length, no Host on 1.1);
//   413  a Content-Length above body_bytes_max;
//   431  a head (request line + headers) above head_bytes_max, or more than headers_max headers;
//   501  Transfer-Encoding (chunked bodies are not read; every client of the processor sends
//        Content-Length);
//   505  an HTTP version other than 1.0 and 1.1.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace processor_sim {

// A request line plus headers; the largest the processor's clients send is under 1 KiB.
constexpr size_t head_bytes_max = 16 * 1024;
constexpr size_t headers_max = 64;
// A payment body is ~110 bytes; admin bodies are smaller.
constexpr size_t body_bytes_max = 64 * 1024;

struct Request {
  std::string method;  // As sent: "GET", "POST", ...
  std::string path;    // The target up to '?', as sent (not decoded).
  std::string query;   // The target after '?', as sent; empty without one.
  std::vector<std::pair<std::string, std::string>> headers;  // Names lowercased, values trimmed.
  std::string body;
  bool keep_alive = true;  // HTTP/1.1 without "Connection: close", or 1.0 with "keep-alive".

  // The first header of that name (lowercase), or nullptr.
  const std::string* header(std::string_view lowercase_name) const;
};

struct Response {
  int status = 200;
  std::string content_type;  // Empty: no Content-Type header.
  std::string body;
  int retry_after_s = 0;  // > 0: a Retry-After header with this many seconds.
};

struct ParseResult {
  enum class State { incomplete, complete, invalid };
  State state = State::incomplete;
  size_t consumed = 0;            // complete: the bytes this request took from the input.
  int error_status = 0;           // invalid: the status to answer (400, 413, 431, 501, 505).
  bool expects_continue = false;  // incomplete with a whole head that asked "Expect: 100-continue".
};

// Parses the request at the start of `input` into *request (filled only when complete).
ParseResult parse_request(std::string_view input, Request* request);

// The response's bytes: status line, Content-Type (when set), Content-Length, Retry-After (when
// set), "Connection: close" when `close`, then the body.
std::string serialize_response(const Response& response, bool close);

// The value of query parameter `name` in `query` ("a=1&b=2"), %XX and '+' decoded; nullopt when
// the parameter is absent or its encoding is broken.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace processor_sim
