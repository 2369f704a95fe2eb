// A relay between clients and a server on a unix socket (a PostgreSQL cluster's), for tests that
// lose a session on the client's side only: the client sees its connection cut while, to the
// server, the session is still there. It listens on a socket of its own; each connection it
// accepts is a session, numbered from 0 in order, with a connection of its own to the server.
// Bytes pass through unchanged, except that a test can keep them (the server does not get what
// the client sent yet, or the client does not get the server's answer) and cut the client's side.
// A side closed by its peer closes the other side too, as a direct connection would.
//
// One thread relays every session (poll); the calls are thread-safe. A session number passed to a
// call must be one the relay has accepted (< sessions()).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class SessionRelay {
 public:
  // Listens on listen_path and relays to server_path. Throws std::runtime_error when it cannot.
  SessionRelay(std::string listen_path, std::string server_path);
  // Stops the thread and closes every connection.
  ~SessionRelay();
  SessionRelay(const SessionRelay&) = delete;
  SessionRelay& operator=(const SessionRelay&) = delete;

  // Sessions accepted so far.
  int sessions() const;

  // From now on, what the client of `session` sends is kept, not passed to the server.
  void hold_from_client(int session);
  // From now on, what the server sends on `session` is kept, not passed to the client.
  void hold_from_server(int session);
  // Bytes kept so far.
  size_t held_from_client(int session) const;
  size_t held_from_server(int session) const;
  // Passes what was kept from the client to the server (if its side is still open), and stops
  // keeping.
  void release_from_client(int session);

  // Closes the client's side of `session`; the server's side stays open, and what the server
  // sends from now on is dropped.
  void cut_client(int session);
  // Whether the server has closed its side of `session`.
  bool server_closed(int session) const;

 private:
  struct Session {
    int client_fd = -1;  // -1 once closed.
    int server_fd = -1;  // -1 once closed.
    bool hold_client = false;
    bool hold_server = false;
    std::string held_client;
    std::string held_server;
  };

  void run();
  void wake();
  // Relays what is readable on one side of a session. REQUIRES: mutex_ held.
  void relay(Session* session, bool from_client);
  static void close_fd(int* fd);

  const std::string listen_path_;
  const std::string server_path_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  mutable std::mutex mutex_;
  bool stopping_ = false;                           // Guarded by mutex_.
  std::vector<std::unique_ptr<Session>> sessions_;  // Guarded by mutex_.
  std::thread thread_;
};
