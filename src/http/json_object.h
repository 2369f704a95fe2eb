// Writing the answers' JSON by hand (http/ledger/answers.h, http/payments/answers.h): one object,
// field by field in the order called, appended to a string. Keys are written as given (the
// callers' constant ASCII names); strings are escaped per RFC 8259: '"', '\\' and control
// characters, other UTF-8 passes through. No state beyond the object being written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace http {

// Appends text as a quoted, escaped JSON string.
void append_json_string(std::string* out, std::string_view text);

// {"key":value,...}: opened by the constructor, closed by end(); object() opens a nested one,
// closed by its own end().
class JsonObject {
 public:
  explicit JsonObject(std::string* out) : out_(out) { out_->push_back('{'); }

  JsonObject& number(std::string_view key, int64_t value) {
    this->key(key);
    out_->append(std::to_string(value));
    return *this;
  }
  JsonObject& string(std::string_view key, std::string_view text) {
    this->key(key);
    append_json_string(out_, text);
    return *this;
  }
  // A value the caller has already written as JSON (a literal, a formatted amount, null).
  JsonObject& raw(std::string_view key, std::string_view json) {
    this->key(key);
    out_->append(json);
    return *this;
  }
  JsonObject& object(std::string_view key) {
    this->key(key);
    out_->push_back('{');
    first_ = true;
    return *this;
  }
  // Writes the key (after a comma unless it is the object's first); the caller writes its value.
  JsonObject& key(std::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
    return *this;
  }
  JsonObject& end() {
    out_->push_back('}');
    first_ = false;
    return *this;
  }

 private:
  std::string* out_;
  bool first_ = true;
};

}  // namespace http
