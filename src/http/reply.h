// Answering a request with JSON, for both faces' routes (http/ledger/routes.h,
// http/payments/routes.h): the status, the body and its content type, set in one place.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>
#include <utility>

#include "http/ledger/answers.h"

namespace http {

inline constexpr const char* json_type = "application/json";

// `status` with `body`, which is JSON.
inline void reply_json(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), json_type);
}

// `status` with {"error":message}.
inline void reply_json_error(httplib::Response& res, int status, std::string_view message) {
  reply_json(res, status, error_json(message));
}

}  // namespace http
