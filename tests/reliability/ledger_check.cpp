#include "reliability/ledger_check.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/api.h"
#include "support/audit.h"

size_t Journal::count_status(int status) const {
  size_t n = 0;
  for (const Sent& s : sent) n += s.status == status;
  return n;
}

size_t Journal::count_failed() const {
  size_t n = 0;
  for (const Sent& s : sent) n += s.status != 200 && s.status != 422;
  return n;
}

bool LedgerCheck::ok() const {
  return acknowledged_missing == 0 && acknowledged_mismatch == 0 && refused_present == 0 &&
         unavailable_present == 0 && duplicated == 0 && unknown_rows == 0 &&
         audit_failures.empty() && statement_errors.empty();
}

std::string LedgerCheck::describe() const {
  std::ostringstream out;
  out << rows << " rows, " << acknowledged << " acknowledged (" << acknowledged_missing
      << " missing, " << acknowledged_mismatch << " mismatched), " << refused_present
      << " refused but present, " << unavailable_present << " answered 503 but present, "
      << duplicated << " duplicated, " << unknown_rows << " unknown rows, " << unanswered_committed
      << " unanswered but committed, " << audit_failures.size() << " accounts failing the audit";
  for (const std::string& error : statement_errors) out << "\n  statement: " << error;
  return out.str();
}

std::string unique_description(char prefix, int thread, int sequence) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string text(1, prefix);
  text += digits[thread % 36];
  std::string tail;
  for (int n = sequence; n > 0 || tail.empty(); n /= 36) tail.insert(tail.begin(), digits[n % 36]);
  return text + tail;
}

PostedRows posted_rows(const std::vector<std::vector<std::string>>& found) {
  PostedRows rows;
  for (const auto& row : found) {
    PostedRow& posted = rows[row.at(0)];
    if (posted.copies++ == 0) {
      posted.account = std::stoi(row.at(1));
      posted.amount_cents = std::stoll(row.at(2));
      posted.kind = row.at(3).at(0);
    }
  }
  return rows;
}

LedgerCheck compare_postings(const Journal& journal, const PostedRows& rows,
                             const std::set<std::string>& not_sent) {
  LedgerCheck check;
  for (const auto& [description, row] : rows) {
    check.rows += static_cast<size_t>(row.copies);
    check.duplicated += row.copies > 1;
  }
  std::set<std::string> sent;
  for (const Sent& s : journal.sent) {
    sent.insert(s.description);
    const auto it = rows.find(s.description);
    const bool present = it != rows.end();
    if (s.status == 200) {
      ++check.acknowledged;
      if (!present) {
        ++check.acknowledged_missing;
      } else {
        const PostedRow& row = it->second;
        check.acknowledged_mismatch +=
            row.account != s.account || row.amount_cents != s.amount_cents || row.kind != s.kind;
      }
    } else if (s.status == 422) {
      check.refused_present += present;
    } else if (s.status == 503) {
      check.unavailable_present += present;
    } else {
      check.unanswered_committed += present;
    }
  }
  for (const auto& [description, row] : rows) {
    check.unknown_rows += !sent.count(description) && !not_sent.count(description);
  }
  return check;
}

namespace {

void check_statements(const Stack& stack, const std::vector<httplib::Client*>& clients,
                      LedgerCheck* check) {
  for (int account = 1; account <= 5; ++account) {
    const std::string id = std::to_string(account);
    const auto balance = stack.query("SELECT balance_cents FROM accounts WHERE id = " + id);
    if (balance.empty()) {
      check->statement_errors.push_back("account " + id + " missing");
      continue;
    }
    const int64_t balance_cents = std::stoll(balance[0].at(0));
    std::vector<std::string> descriptions;
    for (const auto& row : stack.query("SELECT description FROM transactions WHERE account_id = " +
                                       id + " ORDER BY seq DESC LIMIT 10")) {
      descriptions.push_back(row.at(0));
    }
    for (size_t c = 0; c < clients.size(); ++c) {
      const std::string where = "client " + std::to_string(c) + ", account " + id + ": ";
      const Answer answer = get_statement(*clients[c], account);
      if (answer.status != 200) {
        check->statement_errors.push_back(where + "status " + std::to_string(answer.status));
        continue;
      }
      if (answer.body["saldo"]["total"] != balance_cents) {
        check->statement_errors.push_back(where + "total " + answer.body["saldo"]["total"].dump() +
                                          " != balance " + std::to_string(balance_cents));
      }
      std::vector<std::string> listed;
      for (const auto& entry : answer.body["ultimas_transacoes"]) {
        listed.push_back(entry["descricao"].get<std::string>());
      }
      if (listed != descriptions) {
        check->statement_errors.push_back(where + "listed transactions differ from the table");
      }
    }
  }
}

}  // namespace

LedgerCheck check_ledger(const Stack& stack, const Journal& journal) {
  LedgerCheck check = compare_postings(journal, posted_rows(stack.query(posted_rows_sql)));
  check.audit_failures = audit_failures(stack);
  std::vector<std::unique_ptr<httplib::Client>> clients;
  std::vector<httplib::Client*> statement_clients;
  for (int i = 1; i <= stack.instances(); ++i) {
    clients.push_back(stack.instance_client(i));
    statement_clients.push_back(clients.back().get());
  }
  check_statements(stack, statement_clients, &check);
  return check;
}
