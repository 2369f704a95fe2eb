// The throwaway PostgreSQL cluster the store and stack tests run on: it answers on its socket,
// keeps a commit across a stop like a power cut, and starts again on the same data.
#include "support/pg_cluster.h"

#include <catch2/catch.hpp>
#include <filesystem>

TEST_CASE("a cluster answers, keeps a commit across an immediate stop, and stops",
          "[postgresql][pg_cluster]") {
  std::string dir;
  {
    PgCluster cluster;
    dir = cluster.dir();
    CHECK(cluster.uri().rfind("postgresql:///crebito?host=" + dir + "/socket", 0) == 0);
    CHECK(cluster.psql("SELECT 1") == "1\n");
    cluster.psql("CREATE TABLE kept (n integer); INSERT INTO kept VALUES (42)");

    cluster.stop_immediate();
    CHECK_FALSE(cluster.running());
    CHECK_THROWS_WITH(cluster.psql("SELECT 1"), Catch::Contains("failed"));

    cluster.start_again();
    CHECK(cluster.running());
    CHECK(cluster.psql_rows("SELECT n FROM kept") == std::vector<std::string>{"42"});
    CHECK_THROWS_WITH(cluster.psql("SELECT * FROM missing"), Catch::Contains("missing"));
  }
  // The destructor stopped the server and removed its directory.
  CHECK_FALSE(std::filesystem::exists(dir));
}
