# lakegate's container image: `docker build -t lakegate .`
# The chart (charts/lakegate) runs it as coordinator and executors; alone it runs the demo.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# protoc comes from the protoc-bin-vendored crate: no system packages needed to build.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin lakegate \
    && cp target/release/lakegate /usr/local/bin/lakegate

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 lakegate \
    && useradd --system --uid 10001 --gid lakegate --no-create-home --home-dir /nonexistent lakegate
COPY --from=build /usr/local/bin/lakegate /usr/local/bin/lakegate
USER 10001:10001
# Flight SQL, HTTP, executor gRPC.
EXPOSE 50051 8080 50052
ENTRYPOINT ["lakegate"]
CMD ["local", "--warehouse", "/tmp/lakegate-data", "--flight-sql-addr", "0.0.0.0:50051", "--http-addr", "0.0.0.0:8080"]
