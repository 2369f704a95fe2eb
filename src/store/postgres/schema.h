// Prepares a PostgreSQL database for crebito: schema-postgresql.sql (compiled in from the
// repository root), applied in one transaction that first takes
// pg_advisory_xact_lock(limits::pg_schema_lock_key). Any number of instances may start at once:
// the first applies it, the others wait for the lock and then find nothing left to change.
// The database itself must exist (the URI names it).
#pragma once

#include <string>

#include "store/status.h"

namespace store::pg {

// ok, or the failure, its message naming the URI (with its password hidden) and the reason.
Status apply_schema(const std::string& uri);

}  // namespace store::pg
