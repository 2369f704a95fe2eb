package crebito.load;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.*;
import io.gatling.javaapi.http.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Rinha de Backend 2024/Q1 load test, written for crebito from the public description of the
 * official simulation (docs/CHALLENGES.md §1): same scenarios in the same order, same
 * injection profile, same random payloads, same checks and the same request and check names, so
 * that the challenge's scoring (Gatling stats plus a grep of simulation.log for
 * "ConsistenciaSaldoLimite" and "jmesPath(saldo.total).find.is") applies to its output unchanged.
 *
 * <p>System properties:
 * <ul>
 *   <li>{@code baseUrl} (default http://127.0.0.1:9999)
 *   <li>{@code scale} (default 1.0): multiplies the two 2-minute phases of the load, so 0.1 gives
 *       the same shape (same rates, same ramp) in 24 s instead of 4 minutes.
 *   <li>{@code countsFile} (optional): where to write, at the end, how many POSTs got each status
 *       per request name (JSON). Gatling's own stats count a 422 debit as OK; these counts tell
 *       how many transactions the API says it committed (status 200), to compare with the
 *       database. Counting adds no request and changes nothing in the load.
 * </ul>
 */
public class Rinha2024Simulation extends Simulation {

  static final String BASE_URL = System.getProperty("baseUrl", "http://127.0.0.1:9999");
  static final double SCALE = Double.parseDouble(System.getProperty("scale", "1.0"));

  // Official injection: ramp 1 -> peak users/s over 2 minutes, then the peak for 2 minutes.
  static final Duration PHASE = Duration.ofMillis(Math.max(1000L, Math.round(120_000 * SCALE)));
  static final double DEBITS_PER_SEC_PEAK = 220;
  static final double CREDITS_PER_SEC_PEAK = 110;
  static final double STATEMENTS_PER_SEC_PEAK = 10;

  static final int CONCURRENT_VALIDATION_REQUESTS = 25;
  static final int ACCOUNT_COUNT = 5;
  static final int VALOR_MAX = 10_000;
  static final int DESCRICAO_CHARS = 10;
  static final String ALPHANUMERIC =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  // The seeded accounts: id -> limite (docs/API.md).
  static final List<Map<String, Object>> ACCOUNTS =
      List.of(
          Map.of("id", 1, "limite", 100000),
          Map.of("id", 2, "limite", 80000),
          Map.of("id", 3, "limite", 1000000),
          Map.of("id", 4, "limite", 10000000),
          Map.of("id", 5, "limite", 500000));

  static String randomDescricao() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    StringBuilder out = new StringBuilder(DESCRICAO_CHARS);
    for (int i = 0; i < DESCRICAO_CHARS; i++) {
      out.append(ALPHANUMERIC.charAt(random.nextInt(ALPHANUMERIC.length())));
    }
    return out.toString();
  }

  static Integer parseIntOrNull(Object value) {
    if (value == null) return null;
    try {
      return Integer.valueOf(value.toString());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * saldo >= -limite, with limite taken from the session (saved by a preceding check of the same
   * response). A failure's message always contains the check name, which is what the fine counts.
   */
  static CheckBuilder consistencyCheck(String path, String name) {
    return jmesPath(path)
        .validate(
            name,
            (saldoText, session) -> {
              Integer saldo = parseIntOrNull(saldoText);
              Integer limite = session.contains("limite") ? parseIntOrNull(session.get("limite")) : null;
              if (saldo == null || limite == null) {
                throw new IllegalStateException(name + ": WTF?!");
              }
              if (saldo < -limite) {
                throw new IllegalStateException(name + ": Limite ultrapassado!");
              }
              return saldoText;
            });
  }

  static HttpRequestActionBuilder transaction(String requestName, String tipo) {
    return http(requestName)
        .post("/clientes/#{cliente_id}/transacoes")
        .header("content-type", "application/json")
        .body(
            StringBody(
                "{\"valor\": #{valor}, \"tipo\": \"" + tipo + "\", \"descricao\": \"#{descricao}\"}"));
  }

  static ChainBuilder randomTransactionFields() {
    return exec(
        session -> {
          ThreadLocalRandom random = ThreadLocalRandom.current();
          return session.setAll(
              Map.of(
                  "descricao", randomDescricao(),
                  "cliente_id", random.nextInt(1, ACCOUNT_COUNT + 1),
                  "valor", random.nextInt(1, VALOR_MAX + 1)));
        });
  }

  // request name -> HTTP status -> POST answers seen (see countsFile).
  static final Map<String, Map<String, LongAdder>> POST_STATUS_COUNTS = new ConcurrentHashMap<>();

  /** Counts the status saved as "httpStatus" by the preceding POST, then forgets it. */
  static ChainBuilder countPostStatus(String requestName) {
    return exec(
        session -> {
          Object status = session.get("httpStatus");
          String key = status == null ? "none" : status.toString();
          POST_STATUS_COUNTS
              .computeIfAbsent(requestName, k -> new ConcurrentHashMap<>())
              .computeIfAbsent(key, k -> new LongAdder())
              .increment();
          return session.remove("httpStatus");
        });
  }

  @Override
  public void after() {
    String countsFile = System.getProperty("countsFile");
    if (countsFile == null || countsFile.isEmpty()) return;
    StringBuilder json = new StringBuilder("{");
    new TreeMap<>(POST_STATUS_COUNTS)
        .forEach(
            (name, byStatus) -> {
              if (json.length() > 1) json.append(", ");
              json.append('"').append(name).append("\": {");
              StringBuilder inner = new StringBuilder();
              new TreeMap<>(byStatus)
                  .forEach(
                      (status, count) -> {
                        if (inner.length() > 0) inner.append(", ");
                        inner.append('"').append(status).append("\": ").append(count.sum());
                      });
              json.append(inner).append('}');
            });
    json.append("}\n");
    try {
      Files.write(Path.of(countsFile), json.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static boolean isOk(Session session) {
    Object status = session.get("httpStatus");
    return status != null && "200".equals(status.toString());
  }

  // ---- the load ----

  final ScenarioBuilder debits =
      scenario("débitos")
          .exec(randomTransactionFields())
          .exec(
              transaction("débitos", "d")
                  .check(status().in(200, 422))
                  .check(status().saveAs("httpStatus"))
                  .checkIf(Rinha2024Simulation::isOk)
                  .then(jmesPath("limite").saveAs("limite"))
                  .checkIf(Rinha2024Simulation::isOk)
                  .then(consistencyCheck("saldo", "ConsistenciaSaldoLimite - Transação")))
          .exec(countPostStatus("débitos"));

  final ScenarioBuilder credits =
      scenario("créditos")
          .exec(randomTransactionFields())
          .exec(
              transaction("créditos", "c")
                  .check(status().in(200))
                  .check(status().saveAs("httpStatus"))
                  .check(jmesPath("limite").saveAs("limite"))
                  .check(consistencyCheck("saldo", "ConsistenciaSaldoLimite - Transação")))
          .exec(countPostStatus("créditos"));

  final ScenarioBuilder statements =
      scenario("extratos")
          .exec(session -> session.set("cliente_id", ThreadLocalRandom.current().nextInt(1, ACCOUNT_COUNT + 1)))
          .exec(
              http("extratos")
                  .get("/clientes/#{cliente_id}/extrato")
                  .check(jmesPath("saldo.limite").saveAs("limite"))
                  .check(consistencyCheck("saldo.total", "ConsistenciaSaldoLimite - Extrato")));

  // ---- the validations ----

  static HttpRequestActionBuilder fixedTransaction(String account, int valor, String tipo, String descricao) {
    return http("validações")
        .post("/clientes/" + account + "/transacoes")
        .header("content-type", "application/json")
        .body(
            StringBody(
                "{\"valor\": " + valor + ", \"tipo\": \"" + tipo + "\", \"descricao\": \"" + descricao + "\"}"));
  }

  // The concurrency validation of one kind ("débitos" with tipo "d", "créditos" with "c"): each
  // user posts 1 to account 1, which must answer 200.
  static ScenarioBuilder concurrentTransactions(String kinds, String tipo) {
    return scenario("validação concorrência transações - " + kinds)
        .exec(fixedTransaction("1", 1, tipo, "validacao").check(status().is(200), status().saveAs("httpStatus")))
        .exec(countPostStatus("validações"));
  }

  // ...and then account 1's balance, which must be `total`.
  static ScenarioBuilder concurrentBalance(String kinds, String total) {
    return scenario("validação concorrência saldo - " + kinds)
        .exec(http("validações").get("/clientes/1/extrato").check(jmesPath("saldo.total").is(total)));
  }

  final ScenarioBuilder concurrentDebits = concurrentTransactions("débitos", "d");
  final ScenarioBuilder concurrentDebitsBalance =
      concurrentBalance("débitos", String.valueOf(-CONCURRENT_VALIDATION_REQUESTS));
  final ScenarioBuilder concurrentCredits = concurrentTransactions("créditos", "c");
  final ScenarioBuilder concurrentCreditsBalance = concurrentBalance("créditos", "0");

  static HttpRequestActionBuilder statementOfFedAccount() {
    return http("validações").get("/clientes/#{id}/extrato");
  }

  static HttpRequestActionBuilder postToFedAccount(String body) {
    return http("validações")
        .post("/clientes/#{id}/transacoes")
        .header("content-type", "application/json")
        .body(StringBody(body))
        .check(status().saveAs("httpStatus"));
  }

  // The statement right after "danada" must already show it, with the balance the POST answered,
  // whichever instance serves it; four statements run in parallel as resources of the POST.
  static HttpRequestActionBuilder statementAfterDanada() {
    return statementOfFedAccount()
        .check(
            jmesPath("ultimas_transacoes[0].descricao").is("danada"),
            jmesPath("ultimas_transacoes[0].tipo").is("c"),
            jmesPath("ultimas_transacoes[0].valor").is("1"),
            jmesPath("saldo.limite").isEL("#{limite}"),
            jmesPath("saldo.total").isEL("#{saldo}"));
  }

  final ScenarioBuilder perAccountValidations =
      scenario("validações")
          .feed(listFeeder(ACCOUNTS).circular())
          .exec(
              statementOfFedAccount()
                  .check(
                      status().is(200),
                      jmesPath("saldo.limite").isEL("#{limite}"),
                      jmesPath("saldo.total").is("0")))
          .exec(postToFedAccount("{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"toma\"}").check(status().in(200)))
          .exec(countPostStatus("validações"))
          .exec(postToFedAccount("{\"valor\": 1, \"tipo\": \"d\", \"descricao\": \"devolve\"}").check(status().in(200)))
          .exec(countPostStatus("validações"))
          .exec(
              statementOfFedAccount()
                  .check(
                      jmesPath("ultimas_transacoes[0].descricao").is("devolve"),
                      jmesPath("ultimas_transacoes[0].tipo").is("d"),
                      jmesPath("ultimas_transacoes[0].valor").is("1"),
                      jmesPath("ultimas_transacoes[1].descricao").is("toma"),
                      jmesPath("ultimas_transacoes[1].tipo").is("c"),
                      jmesPath("ultimas_transacoes[1].valor").is("1")))
          .exec(
              postToFedAccount("{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"danada\"}")
                  .check(
                      status().in(200),
                      jmesPath("saldo").saveAs("saldo"),
                      jmesPath("limite").saveAs("limite"))
                  .resources(
                      statementAfterDanada(),
                      statementAfterDanada(),
                      statementAfterDanada(),
                      statementAfterDanada()))
          .exec(countPostStatus("validações"))
          // Invalid payloads: 422, or 400.
          .exec(postToFedAccount("{\"valor\": 1.2, \"tipo\": \"d\", \"descricao\": \"devolve\"}").check(status().in(422, 400)))
          .exec(countPostStatus("validações"))
          .exec(postToFedAccount("{\"valor\": 1, \"tipo\": \"x\", \"descricao\": \"devolve\"}").check(status().in(422, 400)))
          .exec(countPostStatus("validações"))
          .exec(postToFedAccount("{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"123456789 e mais um pouco\"}").check(status().in(422, 400)))
          .exec(countPostStatus("validações"))
          .exec(postToFedAccount("{\"valor\": 1, \"tipo\": \"c\", \"descricao\": \"\"}").check(status().in(422, 400)))
          .exec(countPostStatus("validações"))
          .exec(postToFedAccount("{\"valor\": 1, \"tipo\": \"c\", \"descricao\": null}").check(status().in(422, 400)))
          .exec(countPostStatus("validações"));

  final ScenarioBuilder unknownAccount =
      scenario("cliente não encontrado")
          .exec(http("validações").get("/clientes/6/extrato").check(status().is(404)));

  // `posts` from CONCURRENT_VALIDATION_REQUESTS users at once, then `balance` from one, then `next`.
  static PopulationBuilder concurrentValidation(
      ScenarioBuilder posts, ScenarioBuilder balance, PopulationBuilder... next) {
    return posts
        .injectOpen(atOnceUsers(CONCURRENT_VALIDATION_REQUESTS))
        .andThen(balance.injectOpen(atOnceUsers(1)).andThen(next));
  }

  // The official load profile: users per second ramped from 1 to `peak` over a PHASE, then held.
  static PopulationBuilder rampToPeak(ScenarioBuilder scenario, double peak) {
    return scenario.injectOpen(
        rampUsersPerSec(1).to(peak).during(PHASE), constantUsersPerSec(peak).during(PHASE));
  }

  {
    HttpProtocolBuilder protocol =
        http.baseUrl(BASE_URL).userAgentHeader("crebito load test - 2024/Q1");

    setUp(
            concurrentValidation(
                concurrentDebits,
                concurrentDebitsBalance,
                concurrentValidation(
                    concurrentCredits,
                    concurrentCreditsBalance,
                    perAccountValidations.injectOpen(atOnceUsers(ACCOUNTS.size())),
                    unknownAccount
                        .injectOpen(atOnceUsers(1))
                        .andThen(
                            rampToPeak(debits, DEBITS_PER_SEC_PEAK),
                            rampToPeak(credits, CREDITS_PER_SEC_PEAK),
                            rampToPeak(statements, STATEMENTS_PER_SEC_PEAK)))))
        .protocols(protocol);
  }
}
