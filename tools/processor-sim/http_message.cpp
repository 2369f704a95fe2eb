#include "http_message.h"

#include <algorithm>
#include <cstdint>

namespace processor_sim {
namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view head_end = "\r\n\r\n";
constexpr size_t method_chars_max = 16;
// Content-Length digits beyond these cannot be under body_bytes_max anyway; they also keep the
// accumulation below from overflowing.
constexpr size_t length_digits_max = 18;

ParseResult invalid(int status) {
  ParseResult result;
  result.state = ParseResult::State::invalid;
  result.error_status = status;
  return result;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

// Visible ASCII, SP, HTAB and obs-text; never CR, LF, NUL or other controls.
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || byte >= 0x20 ? byte != 0x7f : false;
  });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Does the comma-separated list `value` hold `token` (case-insensitive)?
bool list_has(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<size_t> parse_length(std::string_view text) {
  if (text.empty() || text.size() > length_digits_max) return std::nullopt;
  size_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

const char* reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

const std::string* Request::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return &value;
  }
  return nullptr;
}

ParseResult parse_request(std::string_view input, Request* request) {
  const size_t head_size = input.find(head_end);
  if (head_size == std::string_view::npos) {
    // A head that has not ended within the bound never will (a client using bare LFs ends up
    // here too, or at the server's read timeout).
    if (input.size() >= head_bytes_max) return invalid(431);
    return {};
  }
  if (head_size + head_end.size() > head_bytes_max) return invalid(431);
  // Every line of `head` ends in CRLF; a bare CR or LF inside a line is refused below.
  std::string_view head = input.substr(0, head_size + crlf.size());

  Request parsed;
  // Request line: METHOD SP target SP version CRLF.
  size_t line_end = head.find(crlf);
  std::string_view line = head.substr(0, line_end);
  head.remove_prefix(line_end + crlf.size());
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) return invalid(400);
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = line.substr(last_space + 1);
  if (method.size() > method_chars_max ||
      !std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; }) ||
      method.empty()) {
    return invalid(400);
  }
  if (target.empty() || target.front() != '/' ||
      !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return invalid(400);
  }
  bool http10 = false;
  if (version == "HTTP/1.0") {
    http10 = true;
  } else if (version != "HTTP/1.1") {
    const bool looks_like_version = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                                    version[6] == '.' && version[5] >= '0' && version[5] <= '9' &&
                                    version[7] >= '0' && version[7] <= '9';
    return invalid(looks_like_version ? 505 : 400);
  }
  parsed.method = std::string(method);
  const size_t question = target.find('?');
  parsed.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) parsed.query = std::string(target.substr(question + 1));

  std::optional<size_t> content_length;
  bool has_host = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool expects_continue = false;
  while (!head.empty()) {
    line_end = head.find(crlf);
    line = head.substr(0, line_end);
    head.remove_prefix(line_end + crlf.size());
    if (line.empty() || line.front() == ' ' || line.front() == '\t') return invalid(400);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return invalid(400);
    const std::string_view value = trim(line.substr(colon + 1));
    if (!is_field_value(value)) return invalid(400);
    if (parsed.headers.size() >= headers_max) return invalid(431);
    parsed.headers.emplace_back(lowercase(line.substr(0, colon)), std::string(value));
    const std::string& name = parsed.headers.back().first;
    if (name == "content-length") {
      const std::optional<size_t> length = parse_length(value);
      if (!length || (content_length && *content_length != *length)) return invalid(400);
      content_length = length;
    } else if (name == "transfer-encoding") {
      return invalid(501);
    } else if (name == "host") {
      has_host = true;
    } else if (name == "connection") {
      connection_close = connection_close || list_has(value, "close");
      connection_keep_alive = connection_keep_alive || list_has(value, "keep-alive");
    } else if (name == "expect") {
      expects_continue = iequals(value, "100-continue");
    }
  }
  if (!http10 && !has_host) return invalid(400);
  const size_t body_size = content_length.value_or(0);
  if (body_size > body_bytes_max) return invalid(413);
  const size_t body_start = head_size + head_end.size();
  if (input.size() - body_start < body_size) {
    ParseResult waiting;
    waiting.expects_continue = expects_continue;
    return waiting;
  }
  parsed.body = std::string(input.substr(body_start, body_size));
  parsed.keep_alive = http10 ? connection_keep_alive && !connection_close : !connection_close;
  *request = std::move(parsed);
  ParseResult result;
  result.state = ParseResult::State::complete;
  result.consumed = body_start + body_size;
  return result;
}

std::string serialize_response(const Response& response, bool close) {
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason(response.status);
  out += crlf;
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += crlf;
  }
  out += "Content-Length: ";
  out += std::to_string(response.body.size());
  out += crlf;
  if (response.retry_after_s > 0) {
    out += "Retry-After: ";
    out += std::to_string(response.retry_after_s);
    out += crlf;
  }
  if (close) {
    out += "Connection: close";
    out += crlf;
  }
  out += crlf;
  out += response.body;
  return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t equals = pair.find('=');
    const std::optional<std::string> key = url_decode(pair.substr(0, equals));
    if (key && *key == name) {
      return equals == std::string_view::npos ? std::string() : url_decode(pair.substr(equals + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace processor_sim
