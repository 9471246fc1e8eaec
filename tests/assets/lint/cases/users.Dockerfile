FROM alpine:3.19 AS one
USER root
FROM alpine:3.19 AS two
USER root
USER app
FROM alpine:3.19 AS three
USER 0:0
FROM alpine:3.19 AS four
USER 1000
USER root:root
ARG UID=1000
USER $UID
USER ${UID}:${GID}
ENV NAME=app
USER $NAME
USER 1000:app
USER app:1000
FROM alpine:3.19
