/* bench_mqtt_latency: answer latency of whatever serves devices/+/telemetry, as a device sees it
 * through the broker (scripts/bench-latency.sh runs it against the example service and against
 * bench_mqtt_echo, its peer).
 *
 *   bench_mqtt_latency --port PORT --rate READINGS_PER_S [--seconds 10] [--devices 20]
 *                      [--connections 1] [--late-after 1] [--drain 3] [--label NAME] [--host 127.0.0.1]
 *
 * Load: QoS 1 readings {"msg_id":"<send ns>-<seq>","value":<seq>} to devices/d<1..devices>/telemetry
 * at a fixed rate, on `connections` libmosquitto connections driven by one thread. The schedule is
 * absolute (reading i is due at start + i/rate): a late turn sends every reading that is due at once
 * instead of sliding the rest of the run, so the offered rate is the one asked for even when the
 * machine stalls us for a moment. The send time is taken just before each publish.
 *
 * Answers: a second connection, subscribed to devices/+/ack at QoS 1 on its own thread
 * (mosquitto_loop_start), parses msg_id back out of each answer (the example service's ack is
 * {"count":N,"msg_id":"..."}, the echo's is the reading itself) and takes now - send time on the same
 * CLOCK_MONOTONIC. After the last reading it waits until every reading is answered, or `drain` seconds.
 *
 * Prints one line for bench-latency.sh:
 *   RESULT label=L rate=R seconds=S sent=N accepted=N answered=N late=N missing=N dup=N p50_us= p99_us=
 *          max_us= offered_per_s= lag_max_us=
 * accepted: PUBACKs from the broker; late: answers that came more than `late-after` seconds after the
 * last reading was sent (a backlog that the subject was still working off); missing: never answered
 * within `drain`; lag_max_us: how far the load generator fell behind its own schedule (it must stay
 * small, or the generator, not the subject, is what was measured).
 */
#define _GNU_SOURCE
#include <mosquitto.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 16

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- what the receiver records; written by the receiver thread, read by main after the drain */

static int64_t total;               /* readings in the run */
static int64_t* send_ns;            /* [seq]: when reading seq was published (0: not yet) */
static int64_t* latency_ns;         /* [seq]: its answer's latency (0: not answered) */
static atomic_int_fast64_t answered;
static atomic_int_fast64_t late;
static atomic_int_fast64_t dups;
static atomic_int_fast64_t warmup_answers;
static atomic_int_fast64_t load_end_ns;  /* 0 while the load runs */
static int64_t late_after_ns;

/* Parses "<ns>-<seq>" after "msg_id" in payload. Returns false for anything else (a warm-up
 * reading's "w..." id, or a foreign message). */
static bool parse_msg_id(const char* payload, int len, int64_t* sent, int64_t* seq) {
  const char* key = memmem(payload, (size_t)len, "\"msg_id\"", 8);
  if (!key) return false;
  const char* p = key + 8;
  const char* end = payload + len;
  while (p < end && (*p == ' ' || *p == ':')) p++;
  if (p >= end || *p != '"') return false;
  p++;
  if (p < end && *p == 'w') {
    atomic_fetch_add(&warmup_answers, 1);
    return false;
  }
  char buf[64];
  int n = 0;
  while (p < end && *p != '"' && n < (int)sizeof buf - 1) buf[n++] = *p++;
  buf[n] = 0;
  char* dash;
  *sent = strtoll(buf, &dash, 10);
  if (*dash != '-') return false;
  *seq = strtoll(dash + 1, NULL, 10);
  return true;
}

static void on_answer(struct mosquitto* m, void* obj, const struct mosquitto_message* msg) {
  (void)m, (void)obj;
  const int64_t now = now_ns();
  int64_t sent, seq;
  if (!parse_msg_id((const char*)msg->payload, msg->payloadlen, &sent, &seq)) return;
  /* Only this run's readings count: the id must carry the send time this process recorded. */
  if (seq < 0 || seq >= total || send_ns[seq] != sent) return;
  if (latency_ns[seq] != 0) {
    atomic_fetch_add(&dups, 1);
    return;
  }
  latency_ns[seq] = now - sent > 0 ? now - sent : 1;
  const int64_t end = atomic_load(&load_end_ns);
  if (end != 0 && now - end > late_after_ns) atomic_fetch_add(&late, 1);
  atomic_fetch_add(&answered, 1);
}

static atomic_int subscribed;

static void on_receiver_connect(struct mosquitto* m, void* obj, int rc) {
  (void)obj;
  if (rc != 0) {
    fprintf(stderr, "bench_mqtt_latency: receiver refused: %s\n", mosquitto_connack_string(rc));
    exit(1);
  }
  mosquitto_subscribe(m, NULL, "devices/+/ack", 1);
}

static void on_receiver_subscribe(struct mosquitto* m, void* obj, int mid, int count, const int* granted) {
  (void)m, (void)obj, (void)mid;
  if (count < 1 || granted[0] > 2) {
    fprintf(stderr, "bench_mqtt_latency: the receiver's subscription was refused\n");
    exit(1);
  }
  atomic_store(&subscribed, 1);
}

/* ---- the senders: no threads of their own, driven by main with ppoll */

static atomic_int_fast64_t accepted;  /* PUBACKs; only touched from main's thread, atomic for clarity */
static int connected_senders;

static void on_sender_connect(struct mosquitto* m, void* obj, int rc) {
  (void)m, (void)obj;
  if (rc != 0) {
    fprintf(stderr, "bench_mqtt_latency: sender refused: %s\n", mosquitto_connack_string(rc));
    exit(1);
  }
  connected_senders++;
}

static void on_sender_publish(struct mosquitto* m, void* obj, int mid) {
  (void)m, (void)obj, (void)mid;
  atomic_fetch_add(&accepted, 1);
}

static struct mosquitto* new_client(const char* role, int index, bool tcp_nodelay) {
  char id[64];
  snprintf(id, sizeof id, "bench-lat-%s%d-%d", role, index, (int)getpid());
  struct mosquitto* m = mosquitto_new(id, true, NULL);
  if (!m) {
    fprintf(stderr, "bench_mqtt_latency: mosquitto_new failed\n");
    exit(1);
  }
  /* No window on QoS 1 messages in flight: libmosquitto's default of 20 unacknowledged publishes
   * would hold readings back in the generator at a few thousand per second (and throttle the
   * answers the broker may send us). */
  mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 65535);
  mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
  /* Each reading is a small packet that must leave now: no Nagle. */
  if (tcp_nodelay) mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
  return m;
}

/* service: one non-blocking turn over the senders' sockets, waiting at most timeout_ns. */
static void service_senders(struct mosquitto** senders, int n, int64_t timeout_ns) {
  struct pollfd fds[MAX_CONNECTIONS];
  for (int i = 0; i < n; i++) {
    fds[i].fd = mosquitto_socket(senders[i]);
    fds[i].events = POLLIN | (mosquitto_want_write(senders[i]) ? POLLOUT : 0);
    fds[i].revents = 0;
  }
  if (timeout_ns < 0) timeout_ns = 0;
  struct timespec ts = {.tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL};
  /* ppoll, not poll: the wait to the next due reading is a fraction of a millisecond at 5,000/s. */
  int ready = ppoll(fds, (nfds_t)n, &ts, NULL);
  if (ready < 0 && errno != EINTR) {
    perror("ppoll");
    exit(1);
  }
  for (int i = 0; i < n; i++) {
    int rc = MOSQ_ERR_SUCCESS;
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) rc = mosquitto_loop_read(senders[i], 1);
    if (rc == MOSQ_ERR_SUCCESS && (fds[i].revents & POLLOUT)) rc = mosquitto_loop_write(senders[i], 1);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_misc(senders[i]);
    if (rc != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "bench_mqtt_latency: sender %d: %s\n", i, mosquitto_strerror(rc));
      exit(1);
    }
  }
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static double percentile_us(const int64_t* sorted, int64_t n, double q) {
  if (n == 0) return 0;
  int64_t k = (int64_t)(q * (double)n);  /* nearest rank, rounded up */
  if (k >= n) k = n - 1;
  return (double)sorted[k] / 1000.0;
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  const char* label = "subject";
  int port = 1883, devices = 20, connections = 1;
  double rate = 1000, seconds = 10, drain = 3, late_after = 1, warmup_timeout = 30;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) goto usage;
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--rate")) rate = atof(v);
    else if (!strcmp(a, "--seconds")) seconds = atof(v);
    else if (!strcmp(a, "--devices")) devices = atoi(v);
    else if (!strcmp(a, "--connections")) connections = atoi(v);
    else if (!strcmp(a, "--late-after")) late_after = atof(v);
    else if (!strcmp(a, "--drain")) drain = atof(v);
    else if (!strcmp(a, "--warmup-timeout")) warmup_timeout = atof(v);
    else if (!strcmp(a, "--label")) label = v;
    else goto usage;
    i++;
  }
  if (rate <= 0 || seconds <= 0 || devices < 1 || connections < 1 || connections > MAX_CONNECTIONS) goto usage;

  total = (int64_t)(rate * seconds);
  send_ns = calloc((size_t)total, sizeof *send_ns);
  latency_ns = calloc((size_t)total, sizeof *latency_ns);
  if (!send_ns || !latency_ns) return 1;
  late_after_ns = (int64_t)(late_after * 1e9);

  mosquitto_lib_init();

  /* The receiver first, subscribed before any reading goes out. */
  struct mosquitto* rx = new_client("rx", 0, true);
  mosquitto_connect_callback_set(rx, on_receiver_connect);
  mosquitto_subscribe_callback_set(rx, on_receiver_subscribe);
  mosquitto_message_callback_set(rx, on_answer);
  if (mosquitto_connect(rx, host, port, 60) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(rx) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "bench_mqtt_latency: cannot connect to %s:%d\n", host, port);
    return 1;
  }

  struct mosquitto* senders[MAX_CONNECTIONS];
  for (int i = 0; i < connections; i++) {
    senders[i] = new_client("tx", i, true);
    mosquitto_connect_callback_set(senders[i], on_sender_connect);
    mosquitto_publish_callback_set(senders[i], on_sender_publish);
    if (mosquitto_connect(senders[i], host, port, 60) != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "bench_mqtt_latency: cannot connect to %s:%d\n", host, port);
      return 1;
    }
  }
  for (int64_t deadline = now_ns() + 10000000000LL; connected_senders < connections || !atomic_load(&subscribed);) {
    if (now_ns() > deadline) {
      fprintf(stderr, "bench_mqtt_latency: not connected and subscribed within 10 s\n");
      return 1;
    }
    service_senders(senders, connections, 10000000);
  }

  /* Warm-up: a reading every 100 ms until one is answered: the subject is subscribed and serving.
   * Its ids start with 'w', which the receiver counts apart. */
  {
    const int64_t deadline = now_ns() + (int64_t)(warmup_timeout * 1e9);
    int k = 0;
    while (atomic_load(&warmup_answers) == 0) {
      if (now_ns() > deadline) {
        fprintf(stderr, "bench_mqtt_latency: %s never answered a warm-up reading within %.0f s\n", label, warmup_timeout);
        return 1;
      }
      char payload[96];
      int len = snprintf(payload, sizeof payload, "{\"msg_id\":\"w%d-%" PRId64 "\",\"value\":0}", (int)getpid(), (int64_t)k++);
      mosquitto_publish(senders[0], NULL, "devices/d1/telemetry", len, payload, 1, false);
      for (int64_t until = now_ns() + 100000000LL; now_ns() < until && atomic_load(&warmup_answers) == 0;)
        service_senders(senders, connections, 5000000);
    }
    /* Let the warm-up's own traffic settle before the clock starts. */
    for (int64_t until = now_ns() + 300000000LL; now_ns() < until;) service_senders(senders, connections, 5000000);
  }
  atomic_store(&accepted, 0);

  /* The load, on an absolute schedule. */
  const double interval_ns = 1e9 / rate;
  const int64_t start = now_ns();
  int64_t lag_max = 0;
  char topics[256][32];
  const int topic_count = devices < 256 ? devices : 256;
  for (int d = 0; d < topic_count; d++) snprintf(topics[d], sizeof topics[d], "devices/d%d/telemetry", d + 1);
  for (int64_t seq = 0; seq < total;) {
    int64_t now = now_ns();
    /* Every reading due by now goes out in this turn (catching up after a stall). */
    while (seq < total) {
      const int64_t due = start + (int64_t)((double)seq * interval_ns);
      if (due > now) break;
      if (now - due > lag_max) lag_max = now - due;
      char payload[96];
      const int64_t sent = now_ns();
      send_ns[seq] = sent;  /* before the publish: the answer may come back before it returns */
      int len = snprintf(payload, sizeof payload, "{\"msg_id\":\"%" PRId64 "-%" PRId64 "\",\"value\":%" PRId64 "}",
                         sent, seq, seq);
      int rc = mosquitto_publish(senders[seq % connections], NULL, topics[seq % topic_count], len, payload, 1, false);
      if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "bench_mqtt_latency: publish: %s\n", mosquitto_strerror(rc));
        return 1;
      }
      seq++;
      now = now_ns();
    }
    const int64_t next_due = seq < total ? start + (int64_t)((double)seq * interval_ns) : now;
    service_senders(senders, connections, next_due - now_ns());
  }
  const int64_t end = now_ns();
  atomic_store(&load_end_ns, end);
  const double offered = (double)total / ((double)(end - start) / 1e9);

  /* Drain: until every reading is answered and accepted, or the deadline. */
  const int64_t drain_deadline = end + (int64_t)(drain * 1e9);
  while (now_ns() < drain_deadline && (atomic_load(&answered) < total || atomic_load(&accepted) < total))
    service_senders(senders, connections, 5000000);

  mosquitto_disconnect(rx);
  mosquitto_loop_stop(rx, false);
  for (int i = 0; i < connections; i++) {
    mosquitto_disconnect(senders[i]);
    mosquitto_destroy(senders[i]);
  }
  mosquitto_destroy(rx);

  /* The receiver thread has stopped: the arrays are ours. */
  int64_t n = 0;
  for (int64_t seq = 0; seq < total; seq++)
    if (latency_ns[seq] != 0) latency_ns[n++] = latency_ns[seq];
  qsort(latency_ns, (size_t)n, sizeof *latency_ns, cmp_i64);
  printf("RESULT label=%s rate=%.0f seconds=%g sent=%" PRId64 " accepted=%" PRId64 " answered=%" PRId64
         " late=%" PRId64 " missing=%" PRId64 " dup=%" PRId64 " p50_us=%.0f p99_us=%.0f max_us=%.0f offered_per_s=%.0f"
         " lag_max_us=%.0f\n",
         label, rate, seconds, total, (int64_t)atomic_load(&accepted), n, (int64_t)atomic_load(&late), total - n,
         (int64_t)atomic_load(&dups), percentile_us(latency_ns, n, 0.50), percentile_us(latency_ns, n, 0.99),
         n ? (double)latency_ns[n - 1] / 1000.0 : 0.0, offered, (double)lag_max / 1000.0);
  mosquitto_lib_cleanup();
  return 0;

usage:
  fprintf(stderr,
          "usage: %s --port PORT --rate N [--seconds S] [--devices N] [--connections N] [--late-after S]"
          " [--drain S] [--warmup-timeout S] [--label NAME] [--host HOST]\n",
          argv[0]);
  return 2;
}
