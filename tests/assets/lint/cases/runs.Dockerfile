FROM alpine:3.19
RUN echo one
RUN echo two
# comment between
RUN echo three
RUN echo a && echo b
RUN echo four
WORKDIR /x
RUN echo five
RUN --mount=type=cache,target=/root/.cache echo six
RUN --mount=type=cache,target=/root/.cache echo seven
RUN X=$(date) echo eight
RUN echo nine
