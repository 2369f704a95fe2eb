#include "config.h"

#include <sys/un.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "crebito_limits.h"

const char* const config_usage =
    "usage: crebito [--faces LIST] [--db PATH] [--listen ADDR] [--threads N] ...\n"
    "  --faces LIST          the faces served, comma-separated: ledger, payments (CREBITO_FACES;\n"
    "                        default ledger,payments); a face left out answers 404 and runs\n"
    "                        no thread\n"
    "  --db PATH             SQLite file shared by the instances (CREBITO_DB; default "
    "data/crebito.db)\n"
    "  --listen ADDR         HOST:PORT, or a unix-socket path containing '/' (CREBITO_LISTEN;\n"
    "                        default 127.0.0.1:9997)\n"
    "  --threads N           event-loop threads, each serving any number of connections, 1..64\n"
    "                        (CREBITO_THREADS; default 1)\n"
    "  --busy-timeout-ms N   wait for the other instance's write lock before answering 503,\n"
    "                        1..60000 (CREBITO_BUSY_TIMEOUT_MS; default 2000)\n"
    "  --drain-ms N          on SIGTERM, answer /health with 503 for N ms before stopping, so the\n"
    "                        load balancer stops sending first; 0..60000 (CREBITO_DRAIN_MS;\n"
    "                        default 3000)\n"
    "  --processor-default-url URL   http://HOST:PORT of the default payment processor\n"
    "                        (PROCESSOR_DEFAULT_URL; default "
    "http://payment-processor-default:8080)\n"
    "  --processor-fallback-url URL  the same for the fallback processor (PROCESSOR_FALLBACK_URL;\n"
    "                        default http://payment-processor-fallback:8080)\n"
    "  --payment-workers N   forwarding workers, 1..256 (CREBITO_PAYMENT_WORKERS; default 64)\n"
    "  --processor-timeout-ms N  one call to a processor, 100..60000 "
    "(CREBITO_PROCESSOR_TIMEOUT_MS;\n"
    "                        default 6000)\n";

namespace {

struct Setting {
  const char* flag;
  const char* env;
};
constexpr Setting db_setting{"--db", "CREBITO_DB"};
constexpr Setting listen_setting{"--listen", "CREBITO_LISTEN"};
constexpr Setting threads_setting{"--threads", "CREBITO_THREADS"};
constexpr Setting busy_setting{"--busy-timeout-ms", "CREBITO_BUSY_TIMEOUT_MS"};
constexpr Setting default_url_setting{"--processor-default-url", "PROCESSOR_DEFAULT_URL"};
constexpr Setting fallback_url_setting{"--processor-fallback-url", "PROCESSOR_FALLBACK_URL"};
constexpr Setting workers_setting{"--payment-workers", "CREBITO_PAYMENT_WORKERS"};
constexpr Setting timeout_setting{"--processor-timeout-ms", "CREBITO_PROCESSOR_TIMEOUT_MS"};
constexpr Setting drain_setting{"--drain-ms", "CREBITO_DRAIN_MS"};
constexpr Setting faces_setting{"--faces", "CREBITO_FACES"};
constexpr Setting settings[] = {
    db_setting,           listen_setting,  threads_setting, busy_setting,  default_url_setting,
    fallback_url_setting, workers_setting, timeout_setting, drain_setting, faces_setting};

// "ledger", "payments" or both, comma-separated, each at most once.
bool parse_faces(const std::string& text, const Setting& setting, Faces* out, std::string* error) {
  Faces faces{false, false};
  bool ok = !text.empty();
  for (size_t start = 0; ok && start <= text.size();) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string name = text.substr(start, comma - start);
    bool* face = name == "ledger" ? &faces.ledger : name == "payments" ? &faces.payments : nullptr;
    ok = face != nullptr && !*face;
    if (ok) *face = true;
    start = comma + 1;
  }
  if (!ok) {
    *error = std::string(setting.flag) + " (" + setting.env + "): '" + text +
             "' is not a comma-separated list of ledger, payments (each at most once)";
    return false;
  }
  *out = faces;
  return true;
}

bool parse_int(const std::string& text, int min, int max, const Setting& setting, int* out,
               std::string* error) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    *error = std::string(setting.flag) + " (" + setting.env + "): '" + text +
             "' is not an integer in " + std::to_string(min) + ".." + std::to_string(max);
    return false;
  }
  *out = value;
  return true;
}

// "http://HOST[:PORT]" with no path: the processors are plain HTTP (research §2).
bool parse_processor_url(const std::string& text, const Setting& setting, std::string* out,
                         std::string* error) {
  const std::string scheme = "http://";
  if (text.rfind(scheme, 0) != 0 || text.size() == scheme.size() ||
      text.find('/', scheme.size()) != std::string::npos) {
    *error = std::string(setting.flag) + " (" + setting.env + "): '" + text +
             "' is not http://HOST[:PORT] without a path";
    return false;
  }
  *out = text;
  return true;
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
      !parse_int(text.substr(colon + 1), 1, 65535, listen_setting, &port, error)) {
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
  std::map<std::string, std::string> values;  // flag -> text
  for (const std::string& entry : env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    for (const Setting& setting : settings) {
      if (entry.compare(0, eq, setting.env) == 0 && eq == std::string(setting.env).size()) {
        values[setting.flag] = entry.substr(eq + 1);
      }
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_value = false;
    if (flag == "--help" || flag == "-h") {
      *help = true;
      return true;
    }
    if (const size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    bool known = false;
    for (const Setting& setting : settings) known = known || flag == setting.flag;
    if (!known) {
      *error = "unknown argument '" + args[i] + "'";
      return false;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = flag + " needs a value";
        return false;
      }
      value = args[++i];
    }
    values[flag] = value;
  }

  Config parsed;
  parsed.threads = limits::worker_threads_default;
  parsed.busy_timeout_ms = limits::busy_timeout_ms_default;
  parsed.drain_ms = limits::drain_ms_default;
  std::string listen = "127.0.0.1:9997";
  if (auto it = values.find(db_setting.flag); it != values.end()) parsed.db_path = it->second;
  if (auto it = values.find(listen_setting.flag); it != values.end()) listen = it->second;
  if (auto it = values.find(threads_setting.flag);
      it != values.end() &&
      !parse_int(it->second, limits::worker_threads_min, limits::worker_threads_max,
                 threads_setting, &parsed.threads, error)) {
    return false;
  }
  if (auto it = values.find(busy_setting.flag);
      it != values.end() &&
      !parse_int(it->second, limits::busy_timeout_ms_min, limits::busy_timeout_ms_max, busy_setting,
                 &parsed.busy_timeout_ms, error)) {
    return false;
  }
  parsed.payment_workers = limits::payment_workers_default;
  parsed.processor_timeout_ms = limits::processor_timeout_ms_default;
  if (auto it = values.find(workers_setting.flag);
      it != values.end() &&
      !parse_int(it->second, limits::payment_workers_min, limits::payment_workers_max,
                 workers_setting, &parsed.payment_workers, error)) {
    return false;
  }
  if (auto it = values.find(timeout_setting.flag);
      it != values.end() &&
      !parse_int(it->second, limits::processor_timeout_ms_min, limits::processor_timeout_ms_max,
                 timeout_setting, &parsed.processor_timeout_ms, error)) {
    return false;
  }
  if (auto it = values.find(default_url_setting.flag);
      it != values.end() &&
      !parse_processor_url(it->second, default_url_setting, &parsed.processor_default_url, error)) {
    return false;
  }
  if (auto it = values.find(fallback_url_setting.flag);
      it != values.end() && !parse_processor_url(it->second, fallback_url_setting,
                                                 &parsed.processor_fallback_url, error)) {
    return false;
  }
  if (auto it = values.find(drain_setting.flag);
      it != values.end() && !parse_int(it->second, limits::drain_ms_min, limits::drain_ms_max,
                                       drain_setting, &parsed.drain_ms, error)) {
    return false;
  }
  if (auto it = values.find(faces_setting.flag);
      it != values.end() && !parse_faces(it->second, faces_setting, &parsed.faces, error)) {
    return false;
  }
  if (parsed.db_path.empty()) {
    *error = "--db (CREBITO_DB): empty path";
    return false;
  }
  if (!parse_listen_address(listen, &parsed.listen, error)) return false;
  *config = parsed;
  return true;
}
