// Every limit crebito enforces, named once, with its unit and the reason for its value.
//
// Runtime configuration (src/config.h) is checked against these bounds at start; nothing else in
// the code uses a bare number for a limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace limits {

// Money (specs/crebitos.md). 2^53 - 1 is the largest integer that every JSON reader keeps exact;
// schema.sql enforces the same bound on balances and amounts.
inline constexpr int64_t amount_cents_min = 1;
inline constexpr int64_t amount_cents_max = 9'007'199'254'740'991;
inline constexpr int64_t balance_cents_max = amount_cents_max;
static_assert(amount_cents_max == (int64_t{1} << 53) - 1);

// A description is 1 to 10 Unicode code points (not bytes) of valid UTF-8.
inline constexpr size_t description_code_points_min = 1;
inline constexpr size_t description_code_points_max = 10;

// A statement lists at most this many transactions, newest first.
inline constexpr size_t statement_entries_max = 10;

// Request bodies above this get 413 (spec); the largest valid body is about 120 bytes.
inline constexpr size_t request_body_bytes_max = 4096;

// Account ids in the URL: at most this many decimal digits before we call it "no such account"
// (keeps the parse free of overflow; real ids are 1..5).
inline constexpr size_t account_id_digits_max = 9;

// HTTP worker threads per instance. Each thread serves one connection at a time (cpp-httplib's
// model) and owns one SQLite connection. haproxy.cfg's per-server maxconn must stay below the
// default so that health checks and a stray direct client never wait behind haproxy's connections.
inline constexpr int worker_threads_min = 1;
inline constexpr int worker_threads_max = 64;
inline constexpr int worker_threads_default = 8;

// Socket timeouts. A client that stops sending mid-request (or a POST without Content-Length)
// holds a worker for at most read_timeout_ms.
inline constexpr int read_timeout_ms = 2000;
inline constexpr int write_timeout_ms = 2000;
// Bytes read from a socket at once; a whole request (headers and a body up to
// request_body_bytes_max) usually arrives in one read.
inline constexpr size_t connection_read_buffer_bytes = 8192;

// After answering early (413, 411, 400) without reading the request body, the connection is
// closed gracefully: we stop writing and discard what the client still sends, so it reads our
// answer instead of a connection reset. Bounded in time and bytes so a client cannot hold a worker.
inline constexpr int close_linger_ms = 500;
inline constexpr size_t close_linger_bytes_max = 2 * 1024 * 1024;

// Idle keep-alive connections are kept far longer than haproxy keeps its idle server connections,
// so haproxy always closes first and never reuses a connection the server is closing.
inline constexpr int keep_alive_timeout_s = 60;
inline constexpr size_t keep_alive_requests_max = 1'000'000;

// How long a write waits for the database lock held by the other instance before answering 503.
// Waiting polls every busy_retry_sleep_us; SQLite's default handler would sleep 1..100 ms steps.
inline constexpr int busy_timeout_ms_min = 1;
inline constexpr int busy_timeout_ms_max = 60'000;
inline constexpr int busy_timeout_ms_default = 2000;
inline constexpr int busy_retry_sleep_us = 100;

// Opening the database and applying schema.sql may wait this long for another instance that is
// doing the same at the same moment.
inline constexpr int schema_busy_timeout_ms = 10'000;

}  // namespace limits
