// Every limit crebito enforces, named once, with its unit and the reason for its value.
//
// Runtime configuration (src/config.h) is checked against these bounds at start; nothing else in
// the code uses a bare number for a limit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace limits {

// Money (docs/API.md). 2^53 - 1 is the largest integer that every JSON reader keeps exact;
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

// Event-loop threads per instance (--threads; http/event_loop.h); each serves any number of
// connections and uses one store connection at a time. One thread serves every ready request per
// wake-up with no hand-off between threads; a second one keeps serving while the first waits for
// the database lock the other instance holds.
inline constexpr int threads_min = 1;
inline constexpr int threads_max = 64;
inline constexpr int threads_default = 1;

// Connections the event loop serves at once per instance; one more is accepted and closed at once.
// Through haproxy an instance sees at most haproxy.cfg's maxconn per server.
inline constexpr int connections_max = 4096;
// listen() backlog: connections waiting to be accepted (the kernel caps it at somaxconn).
inline constexpr int listen_backlog = 4096;
// Readiness events taken per epoll_wait, and connections accepted per wake-up of the listener.
inline constexpr int loop_events_max = 256;
inline constexpr int accept_batch_max = 64;
// How often a loop thread looks for connections past their deadline (idle, slow, stuck).
inline constexpr int deadline_sweep_interval_ms = 100;
// Framing a request (http/request_frame.h): a header block longer than this is not framed
// (cpp-httplib answers 414/400 for it), nor a chunk-size line longer than chunk_line_bytes_max or a
// chunk size of more hex digits than chunk_size_hex_digits_max. A Content-Length of more digits
// than content_length_digits_max is refused (413) at the headers.
inline constexpr size_t request_header_bytes_max = 16 * 1024;
inline constexpr size_t chunk_line_bytes_max = 1024;
inline constexpr size_t chunk_size_hex_digits_max = 8;
inline constexpr size_t content_length_digits_max = 9;
// A connection's input buffer: a request whole (headers and body) always fits.
inline constexpr size_t connection_input_bytes_max = 32 * 1024;
// A connection's answers not yet taken by its client: at this many bytes the connection neither
// reads nor serves until the client reads (a client that pipelines and never reads holds this
// much and one answer more, not more).
inline constexpr size_t connection_output_bytes_max = 256 * 1024;
// Requests run on a side thread because their handler may block (a payments summary waits up to
// summary_settle_wait_ms_max): at most this many threads, and this many such requests queued.
inline constexpr int blocking_threads = 2;
inline constexpr size_t blocking_queue_max = 256;

// Socket timeouts. A client that stops sending mid-request (or a POST without Content-Length)
// holds its connection for at most read_timeout_ms.
inline constexpr int read_timeout_ms = 2000;
inline constexpr int write_timeout_ms = 2000;
// What a client connecting straight to an instance can hold: every open connection costs its loop
// thread a buffer and a place in the deadline sweep (http/event_loop.h), no thread of its own. A
// new connection must start its first request within first_request_wait_ms, and each request
// (headers and body) must arrive whole within request_read_ms_max of its first byte. Through
// haproxy neither is ever reached: haproxy sends each request whole, on a connection it opened to
// send it.
inline constexpr int first_request_wait_ms = read_timeout_ms;
inline constexpr int request_read_ms_max = 3000;

// After answering early (413, 411, 400) without reading the request body, the connection is
// closed gracefully: we stop writing and discard what the client still sends, so it reads our
// answer instead of a connection reset. Bounded in time and bytes so a client cannot hold a
// connection open.
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

// On SIGTERM an instance first drains: /health answers 503 for this long while requests are still
// served, so haproxy (checks every 1 s, down after 2 failures: haproxy.cfg) stops sending before
// the instance closes its connections. Without it a request haproxy sends on an idle connection
// just as the instance closes it is lost (measured: about 1 in 10 stops under load). SIGINT and a
// second signal stop at once.
inline constexpr int drain_ms_min = 0;
inline constexpr int drain_ms_max = 60'000;
inline constexpr int drain_ms_default = 3000;

// ---- An instance's unix socket (http/unix_socket.h). ----

// A starting instance waits this long for the previous owner of its path, which has left (it
// drains after SIGTERM, drain_ms_default), to close its socket; then it refuses to start. Five
// default drains: room for a loaded machine. An instance with a longer --drain-ms must have its
// successor started after it has exited (scripts/up waits for the previous processes).
inline constexpr int unix_socket_claim_wait_ms = 5 * drain_ms_default;
// A path whose lock is held this long is refused: an owner removing its socket at exit holds the
// lock for a stat and an unlink only; a longer holder is a running instance (or one starting).
inline constexpr int unix_socket_lock_wait_ms = 500;
// How often a held lock is tried again, and a socket that still accepts connections probed again.
inline constexpr int unix_socket_lock_retry_ms = 10;
inline constexpr int unix_socket_probe_interval_ms = 100;

// A storage fault is over (and logged as such) once its kind of operation has worked with no
// failure for this long; a fault that comes and goes faster is one episode, one pair of log lines.
inline constexpr int fault_quiet_ms = 250;

// After the database file was removed or replaced while open, each process tries at most this often
// to open a database at the path again (an open costs a few system calls and a schema read).
inline constexpr int store_reopen_interval_ms = 200;

// The WAL is copied back into the database file by a background thread every this often (see
// store/sqlite/checkpointer.h); requests never checkpoint. At 10k transactions/s of ~3 pages each,
// the WAL holds ~6 MB between two checkpoints.
inline constexpr int checkpoint_interval_ms = 50;
// When the WAL holds this many frames (4 KiB pages, so 32 MiB), the checkpointer's second pass
// runs under the writer lock so that the WAL can start over; writers wait for that pass only, and
// it syncs the WAL and the database file (measured here: fdatasync p50 0.26 ms, p99 3.9 ms). At
// capacity (~16k frames/s) that is twice a second; at the official test's rate, every ~40 s.
inline constexpr int checkpoint_restart_frames = 8192;
// Before that second pass, passes without the lock are repeated (at most this many in all) while
// more than checkpoint_locked_frames_max frames are left to copy: the locked pass then syncs a few
// hundred frames instead of everything written during the first pass (measured: fdatasync of
// 27-158 ms under sustained writes, which every writer waited for).
inline constexpr int checkpoint_catch_up_passes_max = 4;
inline constexpr int checkpoint_locked_frames_max = 256;
// A WAL file that grew past this (a burst, or a long reader holding old frames) is truncated back
// to it once it has been checkpointed, so its page cache does not count against the memory limit
// for ever. Above the restart size, so that a WAL that starts over is reused, not regrown.
inline constexpr int64_t wal_bytes_max = 40 * 1024 * 1024;

// Writers that queue up in one process while another commits are committed together, in one
// transaction, by the first of them (group commit): up to this many at once. One transaction's
// fixed costs (locks, page reads, WAL frames) are then shared; each posting stays its own
// conditional update, with its own answer.
inline constexpr size_t write_batch_max = 32;

// Opening the database, applying schema.sql and opening the pool's connections may each wait this
// long for another instance that is doing the same at the same moment.
inline constexpr int schema_busy_timeout_ms = 10'000;

// ---- The PostgreSQL store (--store postgresql://..., store/postgres/). ----

// Connections each store of an instance (the ledger's, the payments face's) keeps open to
// PostgreSQL (--store-connections). A request holds one for one round trip; a thread that finds
// none free waits for one. PostgreSQL's default max_connections is 100, shared by every instance.
inline constexpr int store_connections_min = 1;
inline constexpr int store_connections_max = 64;
inline constexpr int store_connections_default = 4;
// A connection that was lost (server restarted, network cut) is opened again at its next use, at
// most this often, so that a server that is down costs a request one refused connect, not a wait.
inline constexpr int pg_reconnect_interval_ms = 200;
// A posting whose connection was lost after it was sent may have committed: the instance
// reconnects and looks its id up (store/postgres/ledger_store.h, invariant 4), for at most this
// long: the instance's event loop waits meanwhile. Past it the outcome is unknown and the answer
// is 504, not 503 (docs/RELIABILITY.md). Long enough for a second reconnect attempt
// (pg_reconnect_interval_ms), short beside a server restart, which is answered 504 at once.
inline constexpr int pg_post_outcome_wait_ms = 300;
// A read whose connection turns out to be lost is tried this many times in all, on a connection
// opened again each time (a pool keeps connections idle across a server restart).
inline constexpr int pg_read_attempts_max = 3;
// Opening a connection gives up after this long (libpq's connect_timeout, whole seconds).
inline constexpr int pg_connect_timeout_s = 2;
// Over TCP, a server that stops answering (host down, network cut) is given up after this long
// with data unacknowledged (libpq's tcp_user_timeout), or after keepalive probes find an idle
// connection dead (first after pg_keepalive_idle_s, then every pg_keepalive_interval_s, at most
// pg_keepalive_count): the request answers 503 instead of waiting for the kernel's minutes.
// Unix sockets need none of it.
inline constexpr int pg_tcp_user_timeout_ms = 5000;
inline constexpr int pg_keepalive_idle_s = 5;
inline constexpr int pg_keepalive_interval_s = 1;
inline constexpr int pg_keepalive_count = 3;
// Set on every session of the PostgreSQL stores, so that no statement of an instance waits long
// on a lock held by a session whose client is gone (an instance killed mid-statement leaves its
// backend running until PostgreSQL notices): PostgreSQL checks each running statement's client at
// least every pg_client_check_interval_ms (client_connection_check_interval: a backend whose client
// died stops and rolls back), a statement waits at most pg_lock_timeout_ms for a lock (then it
// fails having written nothing: 503), and a session idle inside a transaction for
// pg_idle_in_transaction_timeout_ms is ended. The event loop thread waits on each statement, so
// pg_lock_timeout_ms stays below haproxy's timeout check (1 s), and the instance answers its
// checks.
inline constexpr int pg_client_check_interval_ms = 250;
inline constexpr int pg_lock_timeout_ms = 500;
inline constexpr int pg_idle_in_transaction_timeout_ms = 5000;
// The schema lock (pg_advisory_xact_lock): one key for every crebito database. Any constant
// works; this one spells "crebito" in ASCII.
inline constexpr int64_t pg_schema_lock_key = 0x63726562'69746f;

// ---- Payments (docs/PAYMENTS.md, docs/CHALLENGES.md). ----

// A payment is 1 cent up to the same JSON-safe maximum as the ledger; at most 2 decimals.
inline constexpr int64_t payment_cents_min = 1;
inline constexpr int64_t payment_cents_max = amount_cents_max;
// "8-4-4-4-12" hexadecimal digits: the processors parse correlationId as a UUID.
inline constexpr size_t correlation_id_chars = 36;

// Forwarding workers per instance. A worker holds one payment at a time, so this bounds the calls
// in flight to the processors (docs/CHALLENGES.md §2: they admit 800 at once, then queue 500, then
// 429).
inline constexpr int payment_workers_min = 1;
inline constexpr int payment_workers_max = 256;
inline constexpr int payment_workers_default = 64;
// Page cache per payments connection (KiB): SQLite's 2 MB default, for each request thread's
// connection, would add up to more than an instance's memory budget.
inline constexpr int payments_cache_kib = 256;

// One call to a processor gives up after this long; its outcome is then unknown and the payment
// is pinned to that processor. The final test's slowest delay is 5000 ms (on a failing processor),
// so the default lets almost every call end with an answer.
inline constexpr int processor_timeout_ms_min = 100;
inline constexpr int processor_timeout_ms_max = 60'000;
inline constexpr int processor_timeout_ms_default = 6000;
// Connecting to a processor (refused or unreachable: nothing was sent, nothing recorded).
inline constexpr int processor_connect_timeout_ms = 1000;
// A lease outlives the longest call it covers by this margin, so a live worker never loses its
// job to another; a dead worker's job is taken again this long after its call would have ended.
inline constexpr int payment_lease_margin_ms = 2000;

// Retry back-off after 500, 429, a refused connection or an unknown outcome: doubles from the base
// per attempt, capped; a payment is retried until it is processed (none is dropped).
inline constexpr int payment_retry_delay_ms_base = 20;
inline constexpr int payment_retry_delay_ms_max = 1000;
// An instance's dispatcher lets this much time pass between the first reason for a round and the
// round (payments/dispatcher.h), so that one take of the write lock writes the outcomes of many
// calls and claims many payments. A payment is called at most this much later than without it,
// and settles at most this much later (a summary waits for it, in flight, up to
// summary_settle_wait_ms_max).
inline constexpr int payment_dispatch_window_ms = 10;
// A round writes at most this many outcomes and claims at most this many payments: its hold of
// the write lock stays short when a backlog drains. Rounds follow each other every window, so an
// instance can still start 100 * this many calls per second.
inline constexpr int payment_dispatch_rows_max = 8;
// The same on PostgreSQL, where a round takes no lock that accepts wait for (a claim skips the
// rows others hold) but costs several round trips: more rows per round, so that forwarding keeps
// up with the accepts (with 8, a run of the payments crash test left 27,828 payments unsettled).
inline constexpr int pg_payment_dispatch_rows_max = 64;
// With nothing else to do, an instance's dispatcher looks for due retries and expired leases this
// often (a read; the write lock only when one is due); a payment accepted by the same instance or a
// call that ends starts a round at once.
inline constexpr int payment_idle_poll_ms = 25;

// GET /payments/service-health is allowed once per 5 s per processor across all clients
// (docs/CHALLENGES.md §2); one instance at a time holds the health lease and polls each processor
// at most once per health_poll_interval_ms.
inline constexpr int health_poll_interval_ms = 5100;
inline constexpr int health_lease_ms = 12'000;
inline constexpr int health_timeout_ms = 3000;
// The poller looks for a processor whose answer is older than health_poll_interval_ms this often.
inline constexpr int health_poll_tick_ms = 200;
// An instance re-reads the stored health at most this often when choosing a processor
// (payments/processor_views.h): it changes at most once per health_poll_interval_ms.
inline constexpr int health_refresh_ms = 200;
// The processors' health is polled only while this instance has seen payments within this window:
// an instance serving only the ledger never calls them (and never waits on their names at stop).
inline constexpr int health_active_window_ms = 30'000;
// A processor that answered 500/429, refused or timed out is avoided for this long (unless it is
// the only choice); the health poll only sees it every 5 s.
inline constexpr int processor_avoid_ms = 1500;
// Default is cheaper: it is used while its expected response time is below this. Above it, the
// fallback is used when it is faster (the 2025 winner's rule, docs/CHALLENGES.md §4).
inline constexpr int default_preferred_below_ms = 120;
// No call may last as long as the 2025 check's offset (1.5 s in the preview, 2 s in the final;
// docs/PAYMENTS.md, "The summary at a check"): a processor whose expected response time is at or
// above this gets no new payment. The 300 ms left cover the time from requestedAt to the call's
// sending, from the processor's answer to its settling here, and the spread of a check's three
// requests.
inline constexpr int processor_call_budget_ms = 1200;
// A processor whose oldest call still waiting is older than its expected response time (the last
// health poll's minResponseTime, or what its answered calls took) by more than this has turned
// slower than anything said so far: it gets no new payment until that call ends or a poll says
// how slow it is. Calls sent to a processor after it turned slow and before this are the only
// calls that may outlast the budget.
inline constexpr int processor_stall_slack_ms = 40;
// While neither processor is within the budget, payments wait in the queue (requestedAt is set
// when one is sent), but not longer than this: then they go to the one expected faster, even if
// slow, so that none waits for ever.
inline constexpr int payment_hold_ms_max = 10'000;

// GET /payments-summary counts what settled (the processor's answer arrived) by the moment it was
// asked. An answer that arrived before and is not yet written is waited for, this long at most
// (a dispatcher round writes it within payment_dispatch_window_ms and a take of the write lock);
// no call is in flight longer than processor_call_budget_ms, so at a check every call with a
// requestedAt in the window has ended but for those docs/PAYMENTS.md names.
inline constexpr int summary_settle_wait_ms_max = 250;
inline constexpr int summary_settle_poll_ms = 5;

}  // namespace limits
