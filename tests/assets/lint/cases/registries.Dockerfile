FROM docker.io/library/alpine:3.19 AS hub
FROM alpine:3.19 AS implicit
FROM quay.io/team/app:1 AS quay
FROM eu.gcr.io/proj/app:1 AS gcr
FROM gcr.io/proj/app:1 AS rootgcr
FROM my-company.com:5000/app:1 AS company
FROM scratch AS nothing
FROM hub
COPY --from=ghcr.io/owner/tool:1 /tool /tool
COPY --from=hub /a /b
RUN --mount=from=quay.io/team/app:1,target=/x echo
RUN --mount=from=hub,target=/x echo
