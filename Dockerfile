# syntax=docker/dockerfile:1

# Builds the squarebot image. Pass the version metadata as build arguments:
#
#   docker build \
#     --build-arg VERSION=1.2.3 \
#     --build-arg COMMIT="$(git rev-parse HEAD)" \
#     --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#     -t squarebot:1.2.3 .
#
# The binary links the librdkafka that confluent-kafka-go bundles, through cgo
# and against glibc, so the image builds for the builder's own platform only.

FROM golang:1.26-bookworm AS build

ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown

ENV CGO_ENABLED=1

WORKDIR /src

# Download modules in their own layer, so a source change reuses it.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${BUILD_DATE}" \
      -o /out/squarebot ./cmd/squarebot

# cc-debian12 is base-debian12 (glibc, OpenSSL, CA certificates, tzdata) plus
# the GCC runtime libraries, which a cgo binary may load at run time.
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown

LABEL org.opencontainers.image.title="squarebot" \
      org.opencontainers.image.description="Slack-to-Kafka gateway" \
      org.opencontainers.image.source="https://github.com/lsst-sqre/squarebot" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}"

COPY --from=build /out/squarebot /usr/local/bin/squarebot

# 65532 is the nonroot user of the distroless images.
USER 65532:65532

# 8080: Slack endpoints. 9090: /healthz, /readyz and /metrics.
EXPOSE 8080 9090

ENTRYPOINT ["/usr/local/bin/squarebot"]
CMD ["serve"]
