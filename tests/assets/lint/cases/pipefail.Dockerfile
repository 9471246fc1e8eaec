FROM alpine:3.19 AS a
RUN echo a | cat
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
RUN echo b | cat
SHELL ["/bin/sh", "-c"]
RUN echo c | cat
FROM debian:12 AS b
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN echo d | cat
FROM debian:12 AS c
RUN echo e | cat
SHELL ["/usr/bin/bash", "-o", "pipefail", "-c"]
RUN echo f | cat
SHELL ["pwsh", "-Command"]
RUN Get-Thing | Out-Null
FROM debian:12
SHELL ["zsh", "-o", "pipefail", "-c"]
RUN echo g | cat
RUN echo $(echo h | cat)
