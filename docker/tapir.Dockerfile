# Tapir itself, built with cargo and run on a slim Debian.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p tapir

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/tapir /usr/local/bin/tapir
WORKDIR /var/lib/tapir
EXPOSE 8080
HEALTHCHECK CMD curl -fsS http://127.0.0.1:8080/tap/availability || exit 1
ENTRYPOINT ["tapir"]
CMD ["serve", "--bind", "0.0.0.0:8080", "--data-dir", "/var/lib/tapir"]
