#include "config.h"

#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

extern char** environ;

namespace {

// What a setting's text is, and so how it is parsed.
enum class Kind {
  path,           // Any non-empty text.
  listen,         // parse_listen_address().
  integer,        // A decimal integer in min..max.
  processor_url,  // http://HOST[:PORT] without a path.
  faces,          // A comma-separated list of ledger, payments, each at most once.
  store,          // store::parse_location().
  on_off,         // on or off.
};

// One row per setting. Exactly one of the member pointers is set, matching `kind`.
struct Setting {
  const char* flag;
  const char* env;
  const char* value_name;  // In --help: "--threads N".
  Kind kind;
  const char* help;
  std::string Config::*text = nullptr;  // path, processor_url
  int Config::*number = nullptr;        // integer
  int min = 0;                          // integer
  int max = 0;                          // integer
  http::ListenAddress Config::*listen = nullptr;
  Faces Config::*faces = nullptr;
  store::Location Config::*store = nullptr;
  bool Config::*on_off = nullptr;
};

const Setting settings[] = {
    {"--faces", "CREBITO_FACES", "LIST", Kind::faces,
     "the faces served, comma-separated: ledger, payments; a face left out answers 404 and runs "
     "no thread",
     nullptr, nullptr, 0, 0, nullptr, &Config::faces},
    {"--db", "CREBITO_DB", "PATH", Kind::path, "SQLite file shared by the instances",
     &Config::db_path},
    {"--store", "CREBITO_STORE", "LOCATION", Kind::store,
     "sqlite:PATH, or a postgresql://... libpq URI; wins over --db given the same way (a flag "
     "wins over either variable)",
     nullptr, nullptr, 0, 0, nullptr, nullptr, &Config::store},
    {"--store-connections", "CREBITO_STORE_CONNECTIONS", "N", Kind::integer,
     "connections to PostgreSQL per store and instance (a PostgreSQL store only)", nullptr,
     &Config::store_connections, limits::store_connections_min, limits::store_connections_max},
    {"--listen", "CREBITO_LISTEN", "ADDR", Kind::listen,
     "HOST:PORT, or a unix-socket path containing '/'", nullptr, nullptr, 0, 0, &Config::listen},
    {"--threads", "CREBITO_THREADS", "N", Kind::integer,
     "event-loop threads, each serving any number of connections", nullptr, &Config::threads,
     limits::threads_min, limits::threads_max},
    {"--busy-timeout-ms", "CREBITO_BUSY_TIMEOUT_MS", "N", Kind::integer,
     "wait for the other instance's write lock before answering 503", nullptr,
     &Config::busy_timeout_ms, limits::busy_timeout_ms_min, limits::busy_timeout_ms_max},
    {"--drain-ms", "CREBITO_DRAIN_MS", "N", Kind::integer,
     "on SIGTERM, answer /health and /ready with 503 for N ms before stopping, so the load "
     "balancer stops sending first",
     nullptr, &Config::drain_ms, limits::drain_ms_min, limits::drain_ms_max},
    {"--processor-default-url", "PROCESSOR_DEFAULT_URL", "URL", Kind::processor_url,
     "http://HOST:PORT of the default payment processor", &Config::processor_default_url},
    {"--processor-fallback-url", "PROCESSOR_FALLBACK_URL", "URL", Kind::processor_url,
     "the same for the fallback processor", &Config::processor_fallback_url},
    {"--payment-workers", "CREBITO_PAYMENT_WORKERS", "N", Kind::integer,
     "forwarding workers per instance", nullptr, &Config::payment_workers,
     limits::payment_workers_min, limits::payment_workers_max},
    {"--processor-timeout-ms", "CREBITO_PROCESSOR_TIMEOUT_MS", "N", Kind::integer,
     "one call to a processor", nullptr, &Config::processor_timeout_ms,
     limits::processor_timeout_ms_min, limits::processor_timeout_ms_max},
    {"--metrics", "CREBITO_METRICS", "on|off", Kind::on_off,
     "count requests, commits and store events and serve them on GET /metrics (docs/METRICS.md); "
     "off counts nothing and /metrics answers 404",
     nullptr, nullptr, 0, 0, nullptr, nullptr, nullptr, &Config::metrics},
};

// "--threads (CREBITO_THREADS): '4x' is not an integer in 1..64": the flag, its variable, the
// text as given and the rule it breaks.
std::string refusal(const Setting& setting, const std::string& text, const std::string& rule) {
  return std::string(setting.flag) + " (" + setting.env + "): '" + text + "' " + rule;
}

bool parse_int(const std::string& text, int min, int max, int* out) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return false;
  }
  *out = value;
  return true;
}

// "http://HOST[:PORT]" with no path: the processors are plain HTTP.
bool is_processor_url(const std::string& text) {
  const std::string scheme = "http://";
  return text.rfind(scheme, 0) == 0 && text.size() > scheme.size() &&
         text.find('/', scheme.size()) == std::string::npos;
}

bool parse_faces(const std::string& text, Faces* out) {
  Faces faces{false, false};
  for (size_t start = 0; start <= text.size();) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string name = text.substr(start, comma - start);
    bool* face = name == "ledger" ? &faces.ledger : name == "payments" ? &faces.payments : nullptr;
    if (face == nullptr || *face) return false;
    *face = true;
    start = comma + 1;
  }
  *out = faces;
  return true;
}

// Sets the setting's field of *config from text; false and *error when text breaks its rule.
bool apply(const Setting& setting, const std::string& text, Config* config, std::string* error) {
  switch (setting.kind) {
    case Kind::path:
      if (text.empty()) {
        *error = std::string(setting.flag) + " (" + setting.env + "): empty path";
        return false;
      }
      config->*setting.text = text;
      return true;
    case Kind::listen:
      return parse_listen_address(text, &(config->*setting.listen), error);
    case Kind::integer:
      if (!parse_int(text, setting.min, setting.max, &(config->*setting.number))) {
        *error = refusal(setting, text,
                         "is not an integer in " + std::to_string(setting.min) + ".." +
                             std::to_string(setting.max));
        return false;
      }
      return true;
    case Kind::processor_url:
      if (!is_processor_url(text)) {
        *error = refusal(setting, text, "is not http://HOST[:PORT] without a path");
        return false;
      }
      config->*setting.text = text;
      return true;
    case Kind::faces:
      if (!parse_faces(text, &(config->*setting.faces))) {
        *error = refusal(setting, text,
                         "is not a comma-separated list of ledger, payments (each at most once)");
        return false;
      }
      return true;
    case Kind::on_off:
      if (text != "on" && text != "off") {
        *error = refusal(setting, text, "is neither on nor off");
        return false;
      }
      config->*setting.on_off = text == "on";
      return true;
    case Kind::store: {
      std::string why;
      if (!store::parse_location(text, &(config->*setting.store), &why)) {
        *error = std::string(setting.flag) + " (" + setting.env + "): " + why;
        return false;
      }
      return true;
    }
  }
  return false;  // Unreachable: -Wswitch flags a kind left out above.
}

// The default of a setting, as --help shows it.
std::string default_text(const Setting& setting) {
  const Config defaults;
  switch (setting.kind) {
    case Kind::path:
    case Kind::processor_url:
      return defaults.*setting.text;
    case Kind::listen:
      return (defaults.*setting.listen).describe();
    case Kind::integer:
      return std::to_string(defaults.*setting.number);
    case Kind::faces: {
      const Faces& faces = defaults.*setting.faces;
      return faces.ledger && faces.payments ? "ledger,payments"
             : faces.ledger                 ? "ledger"
                                            : "payments";
    }
    case Kind::store:
      return "sqlite:" + defaults.db_path;
    case Kind::on_off:
      return defaults.*setting.on_off ? "on" : "off";
  }
  return "";
}

const Setting* find_flag(const std::string& flag) {
  for (const Setting& setting : settings) {
    if (flag == setting.flag) return &setting;
  }
  return nullptr;
}

}  // namespace

bool parse_listen_address(const std::string& text, http::ListenAddress* address,
                          std::string* error) {
  if (text.find('/') != std::string::npos) {
    if (text.size() >= sizeof(sockaddr_un{}.sun_path)) {
      *error = "--listen: unix-socket path longer than " +
               std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes: " + text;
      return false;
    }
    *address = http::ListenAddress{true, "", 0, text};
    return true;
  }
  const size_t colon = text.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !parse_int(text.substr(colon + 1), 1, 65535, &port)) {
    *error = "--listen (CREBITO_LISTEN): '" + text +
             "' is neither HOST:PORT (port 1..65535) nor a unix-socket path containing '/'";
    return false;
  }
  *address = http::ListenAddress{false, text.substr(0, colon), port, ""};
  return true;
}

bool parse_config(const std::vector<std::string>& args, const std::vector<std::string>& env,
                  Config* config, bool* help, std::string* error) {
  *help = false;
  std::map<const Setting*, std::string> values;  // The environment's, then the flags' (they win).
  std::set<const Setting*> from_flags;
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    for (const Setting& setting : settings) {
      if (entry.compare(0, eq, setting.env) == 0 && eq == std::string(setting.env).size()) {
        values[&setting] = entry.substr(eq + 1);
      }
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      *help = true;
      return true;
    }
    const size_t eq = args[i].find('=');
    const std::string flag = args[i].substr(0, eq);
    const Setting* setting = find_flag(flag);
    if (setting == nullptr) {
      *error = "unknown argument '" + args[i] + "'";
      return false;
    }
    from_flags.insert(setting);
    if (eq != std::string::npos) {
      values[setting] = args[i].substr(eq + 1);
    } else if (i + 1 < args.size()) {
      values[setting] = args[++i];
    } else {
      *error = flag + " needs a value";
      return false;
    }
  }

  // --db and --store (sqlite:PATH) name the same thing, the store: a flag wins over the
  // environment here too, and of two from the same place --store wins. So --db on the command line
  // leaves CREBITO_STORE unread, as --store would.
  const Setting* db_setting = find_flag("--db");
  const Setting* store_setting = find_flag("--store");
  if (from_flags.count(db_setting) != 0 && from_flags.count(store_setting) == 0) {
    values.erase(store_setting);
  }

  Config parsed;
  for (const Setting& setting : settings) {  // In table order: the first refusal is reported.
    const auto it = values.find(&setting);
    if (it != values.end() && !apply(setting, it->second, &parsed, error)) return false;
  }
  if (values.count(store_setting) == 0) {
    parsed.store = store::Location{store::Location::Kind::sqlite, parsed.db_path, ""};
  } else if (parsed.store.kind == store::Location::Kind::sqlite) {
    parsed.db_path = parsed.store.sqlite_path;
  }
  *config = parsed;
  return true;
}

std::string config_usage(const std::string& program) {
  constexpr size_t help_column = 28;
  constexpr size_t line_width = 100;
  constexpr char no_break = '\x01';
  std::string usage = "usage: " + program +
                      " [FLAG VALUE]...\n"
                      "Each flag can also be set through its environment variable; the flag "
                      "wins.\n";
  for (const Setting& setting : settings) {
    std::string text = setting.help;
    if (setting.kind == Kind::integer) {
      text += ", " + std::to_string(setting.min) + ".." + std::to_string(setting.max);
    }
    // "default" stays on the line of its value.
    text += " (" + std::string(setting.env) + "; default" + no_break + default_text(setting) + ")";
    // The flag, then its help from help_column (on a line of its own after a long flag),
    // word-wrapped at line_width.
    std::string line = "  " + std::string(setting.flag) + " " + setting.value_name;
    line += line.size() + 1 < help_column ? std::string(help_column - line.size(), ' ')
                                          : "\n" + std::string(help_column, ' ');
    size_t column = help_column;
    for (size_t start = 0; start < text.size();) {
      const size_t space = std::min(text.find(' ', start), text.size());
      const std::string word = text.substr(start, space - start);
      if (column > help_column && column + 1 + word.size() > line_width) {
        line += "\n" + std::string(help_column, ' ');
        column = help_column;
      } else if (column > help_column) {
        line += ' ';
        ++column;
      }
      line += word;
      column += word.size();
      std::replace(line.end() - static_cast<std::ptrdiff_t>(word.size()), line.end(), no_break,
                   ' ');
      start = space + 1;
    }
    usage += line + "\n";
  }
  return usage;
}

std::optional<int> configure(const std::string& program, int argc, char** argv, Config* config) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  bool help = false;
  std::string error;
  if (!parse_config(args, env, config, &help, &error)) {
    std::fprintf(stderr, "%s: %s\n%s", program.c_str(), error.c_str(),
                 config_usage(program).c_str());
    return 2;
  }
  if (help) {
    std::fputs(config_usage(program).c_str(), stdout);
    return 0;
  }
  return std::nullopt;
}
