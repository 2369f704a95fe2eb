# The crebito API image: a build stage with the Debian -dev packages, and a runtime stage
# holding only the shared libraries the binary links against, running as a non-root user.
# The stage `processor-sim` is the payment processor stand-in (tools/processor-sim) in the same
# kind of image, for docker-compose.payments-local.yml; it shares the build stage, so the sources
# compile once for both images. The API's runtime stage stays last: it is the default target.
#
# Everything comes from Debian bookworm; no other site is contacted. The package layers come
# before any COPY of sources, so editing code rebuilds only the compile step.
# Build with the host network (docker-compose.yml sets `build.network: host`), because our
# dockerd runs without a bridge.

FROM debian:bookworm-slim AS build
# scripts/test-docker prunes superseded images by this label, never anyone else's.
LABEL crebito.stage=build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config \
      libsqlite3-dev libsqlitecpp-dev libcpp-httplib-dev nlohmann-json3-dev catch2 libpq-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole source tree (less what .dockerignore leaves out), so that the image builds whatever
# CMakeLists.txt declares; only the server and the processor stand-in are compiled.
COPY . ./
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCREBITO_BUILD_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target crebito processor-sim \
 && strip build/crebito build/processor-sim

FROM debian:bookworm-slim AS processor-sim
LABEL crebito.stage=runtime
# The same libraries as the API's runtime stage (the same layer, cached once).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsqlite3-0 libcpp-httplib0.11 libpq5 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10002 --user-group --no-create-home --shell /usr/sbin/nologin processor
COPY --from=build /src/build/processor-sim /usr/local/bin/processor-sim
USER processor
# Like the challenge's processor: the fee, the admin token and the health-check window come from
# TRANSACTION_FEE, INITIAL_TOKEN and RATE_LIMIT_SECONDS; the address from --listen.
ENTRYPOINT ["/usr/local/bin/processor-sim"]

FROM debian:bookworm-slim AS runtime
LABEL crebito.stage=runtime
# libcpp-httplib0.11 brings libssl3, zlib1g and libbrotli1 with it; SQLiteCpp is linked
# statically, so libsqlite3-0 and libpq5 (the PostgreSQL store's client library) are the only
# other libraries the binary needs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsqlite3-0 libcpp-httplib0.11 libpq5 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
# /data holds the SQLite file and /sockets the unix sockets; both are volume mount points.
# Their mode is copied into an empty named volume on first mount, so the API user can write
# there and haproxy (another user, another image) can reach the sockets (1777, like /tmp).
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin crebito \
 && mkdir -p /data /sockets \
 && chown crebito:crebito /data \
 && chmod 1777 /sockets
COPY --from=build /src/build/crebito /usr/local/bin/crebito
USER crebito
ENV CREBITO_DB=/data/crebito.db
ENTRYPOINT ["/usr/local/bin/crebito"]
