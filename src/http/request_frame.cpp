#include "http/request_frame.h"

#include <cstdint>

#include "crebito_limits.h"

namespace http {
namespace {

// The end of the header block: the index just past the empty line (CRLF CRLF, or bare LFs, which
// cpp-httplib then refuses with 400), or npos.
size_t header_block_end(std::string_view text) {
  for (size_t i = text.find('\n'); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') return i + 2;
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

bool same_name(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool contains_word(std::string_view value, std::string_view lower) {
  for (size_t i = 0; i + lower.size() <= value.size(); ++i) {
    if (same_name(value.substr(i, lower.size()), lower)) return true;
  }
  return false;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Headers that decide framing. Content-Length: the first one (cpp-httplib reads the first).
struct Framing {
  bool has_length = false;
  std::string_view length;
  bool has_transfer_encoding = false;
  bool chunked = false;
  bool expect_continue = false;
};

Framing read_framing(std::string_view headers) {
  Framing framing;
  size_t line_start = headers.find('\n');  // Skip the request line.
  while (line_start != std::string_view::npos && line_start + 1 < headers.size()) {
    ++line_start;
    const size_t line_end = headers.find('\n', line_start);
    const std::string_view line = headers.substr(
        line_start, (line_end == std::string_view::npos ? headers.size() : line_end) - line_start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = trim(line.substr(colon + 1));
      if (same_name(name, "content-length") && !framing.has_length) {
        framing.has_length = true;
        framing.length = value;
      } else if (same_name(name, "transfer-encoding")) {
        framing.has_transfer_encoding = true;
        framing.chunked = contains_word(value, "chunked");
      } else if (same_name(name, "expect")) {
        framing.expect_continue = same_name(value, "100-continue");
      }
    }
    line_start = line_end;
  }
  return framing;
}

// Parses a Content-Length that is a number no larger than the body limit.
bool small_length(std::string_view text, size_t* length) {
  if (text.empty() || text.size() > limits::content_length_digits_max) return false;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > limits::request_body_bytes_max) return false;
  *length = static_cast<size_t>(value);
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Frames a chunked body that starts at `body`; sets *end to the index past the last trailer line.
RequestFrame::Status frame_chunks(std::string_view text, size_t body, size_t* end) {
  // The body's bytes on the wire are bounded like a Content-Length body, with room for the
  // chunk lines: beyond that, cpp-httplib answers 413 for what it gets.
  const size_t wire_max = body + 2 * limits::request_body_bytes_max + limits::chunk_line_bytes_max;
  size_t at = body;
  while (true) {
    const size_t line_end = text.find('\n', at);
    if (line_end == std::string_view::npos) {
      return text.size() - at > limits::chunk_line_bytes_max || text.size() > wire_max
                 ? RequestFrame::Status::unframeable
                 : RequestFrame::Status::incomplete;
    }
    uint64_t size = 0;
    size_t digits = 0;
    for (size_t i = at; i < line_end && hex_digit(text[i]) >= 0; ++i, ++digits) {
      if (digits == limits::chunk_size_hex_digits_max) return RequestFrame::Status::unframeable;
      size = size * 16 + static_cast<uint64_t>(hex_digit(text[i]));
    }
    if (digits == 0 || size > limits::request_body_bytes_max) {
      return RequestFrame::Status::unframeable;
    }
    at = line_end + 1;
    if (size == 0) break;
    if (text.size() < at + size + 2) {
      return text.size() > wire_max ? RequestFrame::Status::unframeable
                                    : RequestFrame::Status::incomplete;
    }
    at += size;
    if (text[at] == '\r') ++at;
    if (text[at] != '\n') return RequestFrame::Status::unframeable;
    ++at;
  }
  // Trailers, then the empty line.
  while (true) {
    const size_t line_end = text.find('\n', at);
    if (line_end == std::string_view::npos) {
      return text.size() > wire_max ? RequestFrame::Status::unframeable
                                    : RequestFrame::Status::incomplete;
    }
    const bool empty = line_end == at || (line_end == at + 1 && text[at] == '\r');
    at = line_end + 1;
    if (empty) break;
  }
  *end = at;
  return RequestFrame::Status::complete;
}

}  // namespace

RequestFrame frame_request(std::string_view buffered) {
  RequestFrame frame;
  const size_t first_line_end = buffered.find('\n');
  if (first_line_end != std::string_view::npos) {
    frame.request_line = trim(buffered.substr(0, first_line_end));
  }
  const size_t headers_end = header_block_end(buffered);
  if (headers_end == std::string_view::npos) {
    if (buffered.size() > limits::request_header_bytes_max) {
      frame.status = RequestFrame::Status::unframeable;
    }
    return frame;
  }
  frame.headers_length = headers_end;
  const Framing framing = read_framing(buffered.substr(0, headers_end));
  if (framing.has_transfer_encoding) {
    if (!framing.chunked) {
      frame.status = RequestFrame::Status::unframeable;
      return frame;
    }
    size_t end = 0;
    frame.status = frame_chunks(buffered, headers_end, &end);
    if (frame.status == RequestFrame::Status::complete) frame.length = end;
    frame.expects_continue =
        framing.expect_continue && frame.status == RequestFrame::Status::incomplete;
    return frame;
  }
  size_t body = 0;
  if (framing.has_length && !small_length(framing.length, &body)) {
    // Refused at the headers (413) without reading a body.
    frame.status = RequestFrame::Status::complete;
    frame.length = headers_end;
    return frame;
  }
  if (buffered.size() - headers_end < body) {
    frame.expects_continue = framing.expect_continue;
    return frame;
  }
  frame.status = RequestFrame::Status::complete;
  frame.length = headers_end + body;
  return frame;
}

}  // namespace http
