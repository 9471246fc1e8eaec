# a comment first is fine
ARG VERSION=1
ENV FOO=bar
LABEL maintainer=someone
FROM alpine:3.19
RUN echo ok
