# Arbitrade: a two-stage image. The builder compiles the binary on Debian 12
# with the project's own bootstrap (pinned, sha256-checked DuckDB and htmx);
# the runtime stage holds only the shared libraries, the binary, libduckdb.so
# and the share files, and runs as an unprivileged user.
#   docker build -t arbitrade .
#   docker compose up -d        (see docker-compose.yml and README, Deployment)

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config git ca-certificates curl \
      libssl-dev zlib1g-dev libcurl4-openssl-dev libwebsockets-dev \
      libmicrohttpd-dev libjsmn-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Every Debian package is present, so bootstrap only fetches third_party/.
RUN scripts/bootstrap.sh
# The install rpath ($ORIGIN/../lib) is baked in at build time, so the binary
# finds /app/lib/libduckdb.so once copied to /app/bin.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_TESTS=OFF \
      -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON \
 && cmake --build /build -j"$(nproc)" --target arbitrade \
 && mkdir -p /out/bin /out/lib /out/share/arbitrade/src/web /out/share/arbitrade/third_party/htmx \
 && install -m 0755 /build/arbitrade /out/bin/arbitrade \
 && install -m 0644 third_party/duckdb/libduckdb.so /out/lib/libduckdb.so \
 && cp -r src/web/templates src/web/static /out/share/arbitrade/src/web/ \
 && install -m 0644 third_party/htmx/htmx.min.js /out/share/arbitrade/third_party/htmx/ \
 && /out/bin/arbitrade --version

FROM debian:12-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      ca-certificates curl libssl3 zlib1g libcurl4 libwebsockets17 libmicrohttpd12 libstdc++6 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 arbitrade \
 && useradd --system --uid 10001 --gid arbitrade --home-dir /app --shell /usr/sbin/nologin arbitrade \
 && mkdir -p /app/data && chown arbitrade:arbitrade /app/data && chmod 0700 /app/data
COPY --from=build /out/ /app/
# Templates, static files and htmx; the database, its archive, the nonce
# file, the kill file and (optionally) the Fernet key live under /app/data.
ENV ARB_SHARE_DIR=/app/share/arbitrade \
    APP_ENV=prod \
    APP_HOST=0.0.0.0 \
    APP_PORT=8080 \
    DUCKDB_PATH=/app/data/arbitrade.duckdb \
    RISK_KILL_FILE=/app/data/KILL \
    FERNET_KEY_FILE=/app/data/fernet.key \
    LOG_JSON=true
WORKDIR /app
USER arbitrade:arbitrade
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${APP_PORT}/health" >/dev/null || exit 1
ENTRYPOINT ["/app/bin/arbitrade"]
CMD ["run"]
