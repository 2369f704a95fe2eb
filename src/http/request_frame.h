// http::frame_request finds where the first HTTP/1.1 request in a buffer ends, without parsing it:
// the event loop (http/event_loop.h) hands cpp-httplib only requests that are whole, because
// cpp-httplib reads as if from a blocking socket and would take a missing byte for the end of the
// stream. It looks at the header block's end, Content-Length, Transfer-Encoding: chunked (sizes,
// data, trailers) and Expect: 100-continue, and nothing else; cpp-httplib still parses everything.
//
// Anything it cannot frame (a header block longer than limits::request_header_bytes_max, a chunk
// size that is not hex, a transfer coding other than chunked) is `unframeable`: cpp-httplib then
// gets what is buffered, answers 4xx, and the connection closes. A Content-Length that is not a
// number or is over limits::request_body_bytes_max ends the request at its headers: the pre-routing
// handler answers 413 without reading a body.
//
// Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace http {

struct RequestFrame {
  enum class Status { incomplete, complete, unframeable };
  Status status = Status::incomplete;
  size_t length = 0;              // complete: bytes of the request, headers and body.
  size_t headers_length = 0;      // Once the header block is whole (0 before).
  bool expects_continue = false;  // "Expect: 100-continue" and the body is not all here yet.
  std::string_view request_line;  // Once the first line is whole, without its line end.
};

RequestFrame frame_request(std::string_view buffered);

}  // namespace http
