# syntax=docker/dockerfile:1
#
# The innosandbox image: one static binary on an empty base, run as a non-root
# user. Build it with
#   docker build --build-arg VERSION=$(git describe --tags --always) -t innosandbox .
# The build stage runs on the builder's own platform and cross-compiles, so
# `docker buildx build --platform linux/amd64,linux/arm64` needs no emulation.
# deploy/ holds a Go test that checks this file against the binary.

ARG GO_VERSION=1.26.8

# ---------------------------------------------------------------- build
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
# Static (no cgo, so no libc in the final stage), reproducible (-trimpath),
# small (-s -w), and stamped with VERSION, which `innosandbox --version` and
# the serve banner print.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/go/build-cache \
    GOCACHE=/go/build-cache CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/innosandbox ./cmd/innosandbox
# The final stage has no shell to make anything with, so make it here: a user
# entry (for tools that show names) and the state directory.
RUN mkdir -p /out/data \
 && echo 'innosandbox:x:65532:65532:innosandbox:/data:/sbin/nologin' > /out/passwd \
 && echo 'innosandbox:x:65532:' > /out/group

# ---------------------------------------------------------------- runtime
FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="innosandbox" \
      org.opencontainers.image.description="Stateful sandbox and contract-test harness for the InnoPaaS messaging API" \
      org.opencontainers.image.version="${VERSION}"
# CA roots: the sandbox pushes webhooks to https endpoints too.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
# /data belongs to the runtime user, and a fresh named volume mounted there
# takes this ownership, so the SQLite file can be created without root.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/innosandbox /innosandbox
# A numeric UID: the engine can tell it is not root without reading /etc/passwd.
USER 65532:65532
VOLUME /data
EXPOSE 8080
# No shell and no curl here: the binary checks its own /healthz. This suits
# the default command; a container running `listen` needs
# `healthcheck --url http://127.0.0.1:9000/healthz` (see docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/innosandbox", "healthcheck"]
ENTRYPOINT ["/innosandbox"]
# --addr 0.0.0.0:8080: the port must be reachable from outside the container.
# The control API (/_sandbox/, /metrics) fails closed: listening beyond
# loopback, the sandbox needs an admin token. Give it one through the
# environment (docker run -e INNOSANDBOX_ADMIN_TOKEN, at least 16
# characters), or it makes one up at start and prints it once (docker logs).
# So `docker run -p 8080:8080` never publishes an open control API.
# Webhook pushes reach public addresses only unless INNOSANDBOX_WEBHOOK_ALLOW
# names more (see docs/SECURITY.md).
# Flags given here win over INNOSANDBOX_* variables: to configure the store or
# the address through the environment, run the command as `serve` alone.
CMD ["serve", "--addr", "0.0.0.0:8080", "--store", "sqlite:/data/innosandbox.db"]
