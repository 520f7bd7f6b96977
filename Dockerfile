# The example service as an image: built with the same scripts CI runs, shipped on a slim runtime.
#
#   docker build -t routemq .
#   docker run --rm -e MQTT_BROKER=broker -e ENABLE_REDIS=true -e REDIS_HOST=redis routemq
#
# Config: /app/config/app.yaml (mount your own over it); every value can be set by environment
# variable instead (see the README's configuration table).

FROM debian:bookworm-slim AS build
WORKDIR /src
# Dependencies first, so editing code does not reinstall them.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN ./scripts/install-deps.sh
COPY . .
RUN BUILD_DIR=build BUILD_TARGET=routemq ./scripts/build.sh

FROM debian:bookworm-slim
# Only the shared libraries build/bin/routemq links (see `ldd`), and curl for the healthcheck.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpaho-mqttpp3-1 libpaho-mqtt1.3 libyaml-cpp0.7 libspdlog1.10 libfmt9 \
      libprometheus-cpp-core1.0 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin routemq
WORKDIR /app
COPY --from=build /src/build/bin/routemq /usr/local/bin/routemq
COPY config/app.yaml /app/config/app.yaml
USER routemq
# In a container the operations endpoint must be reachable from outside it.
ENV METRICS_HOST=0.0.0.0 METRICS_PORT=9100
EXPOSE 9100
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${METRICS_PORT}/health" >/dev/null || exit 1
ENTRYPOINT ["routemq"]
CMD ["run", "--config", "/app/config/app.yaml"]
