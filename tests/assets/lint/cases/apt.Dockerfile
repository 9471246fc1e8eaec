FROM debian:12 AS base
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88 && rm -rf /var/lib/apt/lists/*
RUN apt-get install curl
RUN apt-get -yq install --no-install-recommends ./local.deb foo/bookworm-backports
RUN apt-get install -t bookworm-backports -y --no-install-recommends pkg=1
RUN apt-get install --target-release=bookworm -y --no-install-recommends pkg=1 other
RUN apt-get -o APT::Install-Recommends=false install -y foo=1
RUN apt-get --assume-yes install --no-install-recommends foo=1
RUN apt install -y foo
RUN apt-get update
RUN apt-get update && apt-get install -y --no-install-recommends foo=1
FROM base AS reused
RUN apt-get update && apt-get install -y --no-install-recommends foo=1
FROM debian:12 AS cached
RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends foo=1
RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt apt-get update
RUN --mount=type=cache,target=/var/lib/apt apt-get update
FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends bar=2 && rm -rf /tmp/x
RUN if true; then apt-get install -y bar; fi
RUN echo $(apt-get install -y --no-install-recommends baz)
