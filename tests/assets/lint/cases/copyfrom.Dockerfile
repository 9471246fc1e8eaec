FROM alpine:3.19 AS builder
COPY --from=builder /a /b
COPY --from=nowhere /a /b
FROM alpine:3.19 AS Second
COPY --from=builder /a /b
COPY --from=0 /a /b
COPY --from=1 /a /b
COPY --from=5 /a /b
COPY --from=nginx:1.25 /etc/nginx /etc/nginx
COPY --from=second /a /b
COPY --from=Second /a /b
FROM alpine:3.19 AS builder
FROM builder
COPY rel dest
WORKDIR /w
COPY rel dest
FROM alpine:3.19 AS noworkdir
COPY rel dest
COPY rel "/abs"
COPY rel $DEST
COPY rel C:\\dest
FROM noworkdir AS child
COPY rel dest
