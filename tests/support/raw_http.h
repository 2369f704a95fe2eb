// Plain-socket HTTP/1.1 for tests that need what an HTTP library does not do: send exact bytes
// (a POST without Content-Length, a malformed head), or hold thousands of connections.
// Loopback only. Every call is bounded by its timeout. Not thread-safe per Answer/fd; separate
// calls may run on separate threads.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raw_http {

struct Answer {
  int status = 0;    // 0: no whole answer (refused, reset, timed out, malformed).
  std::string head;  // Status line and headers, without the blank line.
  std::string body;

  // The value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const {
    size_t at = head.find("\r\n");
    while (at != std::string::npos && at + 2 < head.size()) {
      const size_t end = head.find("\r\n", at + 2);
      const std::string_view line = std::string_view(head).substr(
          at + 2, (end == std::string::npos ? head.size() : end) - at - 2);
      const size_t colon = line.find(':');
      if (colon == name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return std::string(value);
      }
      at = end;
    }
    return std::nullopt;
  }
};

// Parses a whole answer at the start of `buffer` into *answer; returns the bytes it took, or 0
// while incomplete.
inline size_t parse_answer(const std::string& buffer, Answer* answer) {
  const size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  Answer parsed;
  parsed.head = buffer.substr(0, head_end);
  if (parsed.head.compare(0, 9, "HTTP/1.1 ") != 0 || parsed.head.size() < 12) return 0;
  parsed.status = std::atoi(parsed.head.c_str() + 9);
  const std::optional<std::string> length = parsed.header("Content-Length");
  const size_t body_size = length ? std::strtoul(length->c_str(), nullptr, 10) : 0;
  if (buffer.size() < head_end + 4 + body_size) return 0;
  parsed.body = buffer.substr(head_end + 4, body_size);
  *answer = std::move(parsed);
  return head_end + 4 + body_size;
}

// A blocking TCP connection to 127.0.0.1:port whose connect, sends and receives each give up
// after timeout_ms; -1 when it cannot connect.
inline int connect_to(int port, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // Also bounds connect().
  const int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `bytes` on fd, then reads `count` answers (pipelined requests), within timeout_ms in all.
// Fewer when the connection ends or time runs out; bytes after the last answer are dropped.
inline std::vector<Answer> exchange_many(int fd, std::string_view bytes, size_t count,
                                         int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<Answer> answers;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return answers;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  std::string buffer;
  char chunk[4096];
  for (;;) {
    Answer answer;
    while (answers.size() < count) {
      const size_t used = parse_answer(buffer, &answer);
      if (used == 0) break;
      buffer.erase(0, used);
      answers.push_back(std::move(answer));
    }
    if (answers.size() == count) return answers;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return answers;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return answers;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return answers;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

// Sends `bytes` on fd, then reads one answer, within timeout_ms in all.
inline Answer exchange(int fd, std::string_view bytes, int timeout_ms) {
  std::vector<Answer> answers = exchange_many(fd, bytes, 1, timeout_ms);
  return answers.empty() ? Answer{} : std::move(answers.front());
}

// One request on a fresh connection, closed afterwards.
inline Answer request(int port, std::string_view bytes, int timeout_ms) {
  const int fd = connect_to(port, timeout_ms);
  if (fd < 0) return {};
  Answer answer = exchange(fd, bytes, timeout_ms);
  ::close(fd);
  return answer;
}

// "METHOD path HTTP/1.1" with Host, the given extra header lines ("Name: value\r\n" each) and,
// when `body` is set, Content-Length and the body.
inline std::string format(std::string_view method, std::string_view path,
                          std::string_view extra_headers = "",
                          std::optional<std::string_view> body = std::nullopt) {
  std::string out = std::string(method) + " " + std::string(path) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers);
  if (body) out += "Content-Length: " + std::to_string(body->size()) + "\r\n";
  out += "\r\n";
  if (body) out += *body;
  return out;
}

}  // namespace raw_http
