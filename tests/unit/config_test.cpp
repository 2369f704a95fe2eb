// Configuration: flags, environment, precedence and the messages for bad values.
#include "config.h"

#include <catch2/catch.hpp>

namespace {

Config parse_ok(std::vector<std::string> args, std::vector<std::string> env = {}) {
  Config config;
  bool help = false;
  std::string error;
  INFO(error);
  REQUIRE(parse_config(args, env, &config, &help, &error));
  return config;
}

std::string parse_error(std::vector<std::string> args, std::vector<std::string> env = {}) {
  Config config;
  bool help = false;
  std::string error;
  REQUIRE_FALSE(parse_config(args, env, &config, &help, &error));
  return error;
}

}  // namespace

TEST_CASE("defaults", "[config]") {
  const Config config = parse_ok({});
  CHECK(config.db_path == "data/crebito.db");
  CHECK(config.listen.describe() == "127.0.0.1:9997");
  CHECK(config.threads == 1);
  CHECK(config.busy_timeout_ms == 2000);
}

TEST_CASE("flags in both forms, environment, and flags winning", "[config]") {
  Config config = parse_ok({"--db", "/x/a.db", "--threads=3", "--listen", "0.0.0.0:80"});
  CHECK(config.db_path == "/x/a.db");
  CHECK(config.threads == 3);
  CHECK_FALSE(config.listen.is_unix_socket);
  CHECK(config.listen.host == "0.0.0.0");
  CHECK(config.listen.port == 80);

  config = parse_ok({}, {"CREBITO_DB=/e.db", "CREBITO_THREADS=5", "CREBITO_LISTEN=/run/a.sock",
                         "CREBITO_BUSY_TIMEOUT_MS=50", "CREBITO_DBX=ignored", "PATH=/bin"});
  CHECK(config.db_path == "/e.db");
  CHECK(config.threads == 5);
  CHECK(config.listen.is_unix_socket);
  CHECK(config.listen.path == "/run/a.sock");
  CHECK(config.busy_timeout_ms == 50);

  config = parse_ok({"--threads", "2"}, {"CREBITO_THREADS=5"});
  CHECK(config.threads == 2);
}

TEST_CASE("bad values are refused with a message naming the setting", "[config]") {
  CHECK_THAT(parse_error({"--threads", "0"}), Catch::Contains("--threads"));
  CHECK_THAT(parse_error({"--threads", "65"}), Catch::Contains("1..64"));
  CHECK_THAT(parse_error({"--threads", "4x"}), Catch::Contains("--threads"));
  CHECK_THAT(parse_error({}, {"CREBITO_THREADS="}), Catch::Contains("CREBITO_THREADS"));
  CHECK_THAT(parse_error({"--busy-timeout-ms", "-1"}), Catch::Contains("--busy-timeout-ms"));
  CHECK_THAT(parse_error({"--listen", "localhost"}), Catch::Contains("HOST:PORT"));
  CHECK_THAT(parse_error({"--listen", "localhost:0"}), Catch::Contains("HOST:PORT"));
  CHECK_THAT(parse_error({"--listen", "localhost:99999"}), Catch::Contains("HOST:PORT"));
  CHECK_THAT(parse_error({"--listen", "/" + std::string(200, 'a')}), Catch::Contains("longer"));
  CHECK_THAT(parse_error({"--db", ""}), Catch::Contains("--db"));
  CHECK_THAT(parse_error({"--db"}), Catch::Contains("needs a value"));
  CHECK_THAT(parse_error({"--port", "1"}), Catch::Contains("unknown argument '--port'"));
}

TEST_CASE("--help is recognised", "[config]") {
  Config config;
  bool help = false;
  std::string error;
  REQUIRE(parse_config({"--help"}, {}, &config, &help, &error));
  CHECK(help);
}

TEST_CASE("the SIGTERM drain defaults to 3 s and accepts 0 (stop at once)", "[config]") {
  CHECK(parse_ok({}).drain_ms == 3000);
  CHECK(parse_ok({"--drain-ms", "0"}).drain_ms == 0);
  CHECK(parse_ok({}, {"CREBITO_DRAIN_MS=1500"}).drain_ms == 1500);
  CHECK(parse_error({"--drain-ms", "-1"}).find("--drain-ms") != std::string::npos);
  CHECK(parse_error({"--drain-ms", "60001"}).find("CREBITO_DRAIN_MS") != std::string::npos);
}

TEST_CASE("faces: both by default, either alone, refused when empty, unknown or repeated",
          "[config]") {
  CHECK(parse_ok({}).faces.ledger);
  CHECK(parse_ok({}).faces.payments);
  Config config = parse_ok({"--faces", "ledger"});
  CHECK(config.faces.ledger);
  CHECK_FALSE(config.faces.payments);
  config = parse_ok({}, {"CREBITO_FACES=payments"});
  CHECK_FALSE(config.faces.ledger);
  CHECK(config.faces.payments);
  config = parse_ok({"--faces=payments,ledger"}, {"CREBITO_FACES=ledger"});
  CHECK(config.faces.ledger);
  CHECK(config.faces.payments);
  for (const char* bad : {"", "ledgr", "ledger,ledger", "ledger,", ",payments", "Ledger"}) {
    INFO(bad);
    CHECK_THAT(parse_error({"--faces", bad}), Catch::Contains("--faces (CREBITO_FACES)"));
  }
}

TEST_CASE("metrics: on by default, off by flag or environment, refused otherwise", "[config]") {
  CHECK(parse_ok({}).metrics);
  CHECK_FALSE(parse_ok({"--metrics", "off"}).metrics);
  CHECK_FALSE(parse_ok({}, {"CREBITO_METRICS=off"}).metrics);
  CHECK(parse_ok({"--metrics=on"}, {"CREBITO_METRICS=off"}).metrics);
  for (const char* bad : {"", "yes", "0", "OFF"}) {
    INFO(bad);
    CHECK_THAT(parse_error({"--metrics", bad}),
               Catch::Contains("--metrics (CREBITO_METRICS): '" + std::string(bad) +
                               "' is neither on nor off"));
  }
  CHECK_THAT(config_usage("crebito"), Catch::Contains("CREBITO_METRICS; default on"));
}

TEST_CASE("payments settings: flags, environment, and their bad values", "[config]") {
  Config config = parse_ok(
      {"--processor-default-url", "http://127.0.0.1:8001", "--payment-workers=8"},
      {"PROCESSOR_FALLBACK_URL=http://127.0.0.1:8002", "CREBITO_PROCESSOR_TIMEOUT_MS=300"});
  CHECK(config.processor_default_url == "http://127.0.0.1:8001");
  CHECK(config.processor_fallback_url == "http://127.0.0.1:8002");
  CHECK(config.payment_workers == 8);
  CHECK(config.processor_timeout_ms == 300);
  CHECK(parse_ok({}).payment_workers == 64);
  CHECK(parse_ok({}).processor_timeout_ms == 6000);
  for (const char* bad : {"", "http://", "https://x:1", "http://x:1/path", "x:1"}) {
    INFO(bad);
    CHECK_THAT(parse_error({"--processor-default-url", bad}),
               Catch::Contains("--processor-default-url (PROCESSOR_DEFAULT_URL)") &&
                   Catch::Contains("is not http://HOST[:PORT] without a path"));
  }
  CHECK_THAT(parse_error({}, {"PROCESSOR_FALLBACK_URL=ftp://x"}),
             Catch::Contains("PROCESSOR_FALLBACK_URL"));
  CHECK_THAT(parse_error({"--payment-workers", "257"}),
             Catch::Contains("--payment-workers (CREBITO_PAYMENT_WORKERS): '257' is not an integer "
                             "in 1..256"));
  CHECK_THAT(parse_error({}, {"CREBITO_PROCESSOR_TIMEOUT_MS=99"}), Catch::Contains("100..60000"));
}

TEST_CASE("a bad value of each kind names the flag, its variable and the text given", "[config]") {
  // An integer, a path, an address, a URL and a list, each from a flag and from the environment.
  struct Bad {
    const char* flag;
    const char* variable;
    const char* value;
  };
  const Bad bad_values[] = {
      {"--busy-timeout-ms", "CREBITO_BUSY_TIMEOUT_MS", "abc"},
      {"--db", "CREBITO_DB", ""},
      {"--listen", "CREBITO_LISTEN", "nowhere"},
      {"--processor-fallback-url", "PROCESSOR_FALLBACK_URL", "nowhere"},
      {"--faces", "CREBITO_FACES", "nowhere"},
      {"--store", "CREBITO_STORE", "nowhere"},
  };
  std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases;
  for (const Bad& bad : bad_values) {
    cases.push_back({{bad.flag, bad.value}, {}});
    cases.push_back({{}, {std::string(bad.variable) + "=" + bad.value}});
  }
  for (const auto& [args, env] : cases) {
    const std::string error = parse_error(args, env);
    INFO(error);
    CHECK(error.find(" (") != std::string::npos);  // "--flag (VARIABLE): ..."
    CHECK((error.find("'abc'") != std::string::npos ||
           error.find("'nowhere'") != std::string::npos ||
           error.find("empty path") != std::string::npos));
  }
}

TEST_CASE("--help lists every flag with its variable and its default", "[config]") {
  const std::string usage = config_usage("crebito");
  for (const char* text : {"--faces",
                           "CREBITO_FACES",
                           "--db",
                           "CREBITO_DB",
                           "--listen",
                           "CREBITO_LISTEN",
                           "--threads",
                           "CREBITO_THREADS",
                           "--busy-timeout-ms",
                           "CREBITO_BUSY_TIMEOUT_MS",
                           "--drain-ms",
                           "CREBITO_DRAIN_MS",
                           "--processor-default-url",
                           "PROCESSOR_DEFAULT_URL",
                           "--processor-fallback-url",
                           "PROCESSOR_FALLBACK_URL",
                           "--payment-workers",
                           "CREBITO_PAYMENT_WORKERS",
                           "--processor-timeout-ms",
                           "CREBITO_PROCESSOR_TIMEOUT_MS",
                           "--store",
                           "CREBITO_STORE",
                           "--store-connections",
                           "CREBITO_STORE_CONNECTIONS",
                           "default sqlite:data/crebito.db",
                           "default ledger,payments",
                           "default data/crebito.db",
                           "default 127.0.0.1:9997",
                           "1..64"}) {
    INFO(text);
    CHECK(usage.find(text) != std::string::npos);
  }
}

TEST_CASE("store: the SQLite file of --db by default, sqlite:PATH or a postgresql:// URI",
          "[config][store]") {
  Config config = parse_ok({});
  CHECK(config.store.kind == store::Location::Kind::sqlite);
  CHECK(config.store.sqlite_path == "data/crebito.db");
  CHECK(config.store_connections == limits::store_connections_default);

  config = parse_ok({"--db", "/x/a.db"});
  CHECK(config.store.kind == store::Location::Kind::sqlite);
  CHECK(config.store.sqlite_path == "/x/a.db");

  // --store wins over --db, and a SQLite one is then the file every part of the instance uses.
  config = parse_ok({"--store", "sqlite:/y/b.db"}, {"CREBITO_DB=/x/a.db"});
  CHECK(config.store.sqlite_path == "/y/b.db");
  CHECK(config.db_path == "/y/b.db");

  const std::string uri = "postgresql:///crebito?host=/tmp/s&port=5432&user=postgres";
  config = parse_ok({}, {"CREBITO_STORE=" + uri, "CREBITO_STORE_CONNECTIONS=8"});
  CHECK(config.store.is_postgresql());
  CHECK(config.store.postgresql_uri == uri);
  CHECK(config.store_connections == 8);
  CHECK(parse_ok({"--store=postgres://u@h/db"}).store.is_postgresql());
}

TEST_CASE("store: a flag wins over the environment, and --store over --db from the same place",
          "[config][store]") {
  const std::string uri = "postgresql:///crebito?host=/tmp/s&user=postgres";
  // --db on the command line wins over CREBITO_STORE, whatever store that names.
  Config config = parse_ok({"--db", "/x/a.db"}, {"CREBITO_STORE=" + uri});
  CHECK(config.store.kind == store::Location::Kind::sqlite);
  CHECK(config.store.sqlite_path == "/x/a.db");
  CHECK(config.db_path == "/x/a.db");
  config = parse_ok({"--db=/x/a.db"}, {"CREBITO_STORE=sqlite:/e/b.db"});
  CHECK(config.store.sqlite_path == "/x/a.db");
  CHECK(config.db_path == "/x/a.db");
  // A variable the flag overrides is not read, so not refused either.
  CHECK(parse_ok({"--db", "/x/a.db"}, {"CREBITO_STORE=nowhere"}).store.sqlite_path == "/x/a.db");
  // --store on the command line wins over CREBITO_DB, and over --db.
  config = parse_ok({"--store", uri}, {"CREBITO_DB=/e/a.db"});
  CHECK(config.store.is_postgresql());
  config = parse_ok({"--db", "/x/a.db", "--store", "sqlite:/y/b.db"});
  CHECK(config.store.sqlite_path == "/y/b.db");
  CHECK(config.db_path == "/y/b.db");
  // Both from the environment: CREBITO_STORE wins.
  config = parse_ok({}, {"CREBITO_DB=/e/a.db", "CREBITO_STORE=" + uri});
  CHECK(config.store.is_postgresql());
  config = parse_ok({}, {"CREBITO_DB=/e/a.db", "CREBITO_STORE=sqlite:/e/b.db"});
  CHECK(config.store.sqlite_path == "/e/b.db");
  CHECK(config.db_path == "/e/b.db");
}

TEST_CASE("store: a bad location or pool size is refused with a clear message", "[config][store]") {
  for (const char* text :
       {"", "sqlite:", "mysql://h/db", "/data/crebito.db", "postgresql:/x", "SQLITE:/x"}) {
    INFO(text);
    const std::string error = parse_error({"--store", text});
    CHECK_THAT(error, Catch::Contains("--store (CREBITO_STORE)"));
    CHECK_THAT(error, Catch::Contains("sqlite:PATH"));
  }
  CHECK_THAT(parse_error({}, {"CREBITO_STORE=nowhere"}), Catch::Contains("'nowhere'"));
  // A password in a refused value is not repeated in the message.
  const std::string error = parse_error({"--store", "postgresq://u:secret@h/db"});
  CHECK_THAT(error, !Catch::Contains("secret"));
  CHECK_THAT(parse_error({"--store-connections", "0"}), Catch::Contains("1..64"));
  CHECK_THAT(parse_error({}, {"CREBITO_STORE_CONNECTIONS=65"}),
             Catch::Contains("CREBITO_STORE_CONNECTIONS"));
}

TEST_CASE("store: a location is described without its password", "[config][store]") {
  store::Location location;
  std::string error;
  REQUIRE(store::parse_location("postgresql://crebito:s3cret@db:5432/crebito?sslmode=disable",
                                &location, &error));
  CHECK(location.describe() == "postgresql://crebito:***@db:5432/crebito?sslmode=disable");
  REQUIRE(store::parse_location("postgresql:///crebito?user=u&password=s3cret&host=/s", &location,
                                &error));
  CHECK(location.describe() == "postgresql:///crebito?user=u&password=***&host=/s");
  REQUIRE(store::parse_location("sqlite:data/crebito.db", &location, &error));
  CHECK(location.describe() == "sqlite:data/crebito.db");
}
