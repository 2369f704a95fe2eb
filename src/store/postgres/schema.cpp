#include "store/postgres/schema.h"

#include "crebito_limits.h"
#include "schema_postgresql_sql.h"
#include "store/location.h"
#include "store/postgres/pg_connection.h"

namespace store::pg {

Status apply_schema(const std::string& uri) {
  std::string error;
  std::unique_ptr<Connection> connection = Connection::open(uri, {}, &error);
  if (!connection) return {Status::unavailable, redact_uri(uri) + ": " + error};
  const std::string lock_sql =
      "SELECT pg_advisory_xact_lock(" + std::to_string(limits::pg_schema_lock_key) + ")";
  const Status status = connection->transaction([&] {
    // Starters queue on the schema lock for as long as the schema takes: no lock_timeout here.
    const Status unlimited = connection->run("SET LOCAL lock_timeout = 0");
    if (unlimited != Status::ok) return unlimited;
    const Status locked = connection->run(lock_sql.c_str());
    if (locked != Status::ok) return locked;
    return connection->run(schema_sql);
  });
  if (status != Status::ok) return {status.code(), redact_uri(uri) + ": " + status.message()};
  return Status::ok;
}

}  // namespace store::pg
