/* bench_mqtt_echo: the peer of the latency benchmark (scripts/bench-latency.sh). The least an MQTT
 * service can do for a reading: subscribe to devices/+/telemetry at QoS 1 and publish each payload
 * back unchanged at QoS 1 to devices/<id>/ack, from the message callback. No parsing, no storage, no
 * queue between receiving and answering: what is left is the broker's and libmosquitto's share of
 * the service's answer latency.
 *
 *   bench_mqtt_echo --port PORT [--host 127.0.0.1]
 *
 * Runs until SIGTERM/SIGINT. Prints "READY" once subscribed (the script waits on it).
 */
#include <mosquitto.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static void on_connect(struct mosquitto* m, void* obj, int rc) {
  (void)obj;
  if (rc != 0) {
    fprintf(stderr, "bench_mqtt_echo: connect refused: %s\n", mosquitto_connack_string(rc));
    exit(1);
  }
  /* Subscribed on every (re)connect: a clean session forgets it. */
  mosquitto_subscribe(m, NULL, "devices/+/telemetry", 1);
}

static void on_subscribe(struct mosquitto* m, void* obj, int mid, int count, const int* granted) {
  (void)m, (void)obj, (void)mid;
  if (count < 1 || granted[0] > 2) {
    fprintf(stderr, "bench_mqtt_echo: subscription refused\n");
    exit(1);
  }
  printf("READY\n");
  fflush(stdout);
}

static void on_message(struct mosquitto* m, void* obj, const struct mosquitto_message* msg) {
  (void)obj;
  /* devices/<id>/telemetry -> devices/<id>/ack: replace the last level. */
  const char* slash = strrchr(msg->topic, '/');
  if (!slash) return;
  char topic[256];
  int prefix = (int)(slash - msg->topic);
  if (snprintf(topic, sizeof topic, "%.*s/ack", prefix, msg->topic) >= (int)sizeof topic) return;
  /* Queued from inside the callback; libmosquitto writes it on the next turn of the loop below, a few
   * microseconds later, with no thread hop. */
  mosquitto_publish(m, NULL, topic, msg->payloadlen, msg->payload, 1, false);
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 1883;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
    else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s --port PORT [--host HOST]\n", argv[0]);
      return 2;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  mosquitto_lib_init();
  char id[64];
  snprintf(id, sizeof id, "bench-echo-%d", (int)getpid());
  struct mosquitto* m = mosquitto_new(id, true, NULL);
  if (!m) return 1;
  /* Unlimited messages in flight: a window of 20 (libmosquitto's default) would queue the answers
   * behind PUBACKs at a few thousand readings per second. Nagle off: each answer is one small packet
   * that must leave now, not wait for the broker's delayed ACK. */
  mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 65535);
  mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
  mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_subscribe_callback_set(m, on_subscribe);
  mosquitto_message_callback_set(m, on_message);
  if (mosquitto_connect(m, host, port, 30) != MOSQ_ERR_SUCCESS) {
    fprintf(stderr, "bench_mqtt_echo: cannot connect to %s:%d\n", host, port);
    return 1;
  }
  while (!stopping) {
    int rc = mosquitto_loop(m, 100, 1);
    if (rc != MOSQ_ERR_SUCCESS && !stopping) {
      fprintf(stderr, "bench_mqtt_echo: %s; reconnecting\n", mosquitto_strerror(rc));
      sleep(1);
      mosquitto_reconnect(m);
    }
  }
  mosquitto_disconnect(m);
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  return 0;
}
