FROM alpine:3.19 AS base
LABEL org.opencontainers.image.source="https://github.com/x/y" \
      org.opencontainers.image.created="2024-01-02T03:04:05Z" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="0123456789abcdef0123456789abcdef01234567" \
      org.opencontainers.image.version="1.2.3" \
      org.opencontainers.image.authors="dev@example.com"
FROM alpine:3.19 AS bad
LABEL org.opencontainers.image.source="not a url" \
      org.opencontainers.image.created="yesterday" \
      org.opencontainers.image.licenses="Not-A-License" \
      org.opencontainers.image.revision="xyz" \
      org.opencontainers.image.version="v1" \
      org.opencontainers.image.authors="nobody"
LABEL org.opencontainers.image.title=""
LABEL extra.label=1 Invalid_Key=2 com.docker.reserved=3 double..dots=4 ok-key=5 ends-=6
FROM base AS child
FROM alpine:3.19 AS copier
COPY --from=bad /x /y
FROM alpine:3.19
LABEL org.opencontainers.image.title="final"
