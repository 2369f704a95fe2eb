#include "store/location.h"

#include <algorithm>
#include <utility>

namespace store {
namespace {

constexpr const char* sqlite_prefix = "sqlite:";
constexpr const char* uri_prefixes[] = {"postgresql://", "postgres://"};

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string redact_uri(const std::string& uri) {
  std::string out = uri;
  // "scheme://user:password@host": the user-info ends at the last '@' before the path.
  const size_t authority = out.find("://");
  if (authority != std::string::npos) {
    const size_t start = authority + 3;
    const size_t end = std::min(out.find_first_of("/?", start), out.size());
    const size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // "...?password=secret&..." (libpq accepts every connection parameter in the query).
  for (size_t at = out.find("password="); at != std::string::npos;
       at = out.find("password=", at + 1)) {
    if (at > 0 && out[at - 1] != '?' && out[at - 1] != '&') continue;
    const size_t value = at + std::string("password=").size();
    const size_t end = std::min(out.find('&', value), out.size());
    out.replace(value, end - value, "***");
  }
  return out;
}

std::string Location::describe() const {
  return kind == Kind::sqlite ? sqlite_prefix + sqlite_path : redact_uri(postgresql_uri);
}

bool parse_location(const std::string& text, Location* location, std::string* error) {
  if (starts_with(text, sqlite_prefix)) {
    const std::string path = text.substr(std::string(sqlite_prefix).size());
    if (path.empty()) {
      *error = "'" + text + "' names no SQLite file (sqlite:PATH)";
      return false;
    }
    *location = Location{Location::Kind::sqlite, path, ""};
    return true;
  }
  for (const char* prefix : uri_prefixes) {
    if (starts_with(text, prefix)) {
      *location = Location{Location::Kind::postgresql, "", text};
      return true;
    }
  }
  // Appended in turn: `"'" + redact_uri(text)` inserts into a temporary, where GCC 12 warns of an
  // overlap that cannot happen (-Wrestrict, a false positive of its inlined memcpy).
  std::string message = "'";
  message += redact_uri(text);
  message += "' is neither sqlite:PATH nor a postgresql://... URI";
  *error = std::move(message);
  return false;
}

}  // namespace store
