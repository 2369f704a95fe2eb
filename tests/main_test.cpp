// The test binaries' main: Catch2's, after ignoring SIGPIPE. Tests talk to servers they kill, and
// cpp-httplib's client sends without MSG_NOSIGNAL; a write to a connection the server reset must
// come back as EPIPE to the test, not end the whole binary.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <csignal>

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
