# syntax=docker/dockerfile:1
#
# middletier's container image: a static binary on distroless, run as the
# non-root user 65532. Build with `docker build -t middletier .` from the
# repository root. The build itself is deploy/build.sh, which CI runs too.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN sh deploy/build.sh /out/middletier && mkdir -p /out/data

# distroless/static: CA certificates, time zones and /etc/passwd with the
# nonroot user, nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/middletier /middletier
# The SQLite data directory (and the dev issuer's key), writable by the
# service's user. In production set MIDDLETIER_DATABASE_URL to PostgreSQL;
# /data then holds nothing and may be read-only.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# A container is reached from outside it: listen on every interface, also
# in dev mode (whose playground still hands its token only to loopback).
ENV MIDDLETIER_ADDR=:8080 \
    MIDDLETIER_DATA_DIR=/data
EXPOSE 8080
ENTRYPOINT ["/middletier"]
CMD ["serve"]
