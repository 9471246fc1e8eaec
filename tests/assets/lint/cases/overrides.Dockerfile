FROM alpine:3.19
# hadolint ignore=DL3018
RUN apk add --no-cache curl
RUN apk add --no-cache bash
# hadolint ignore=DL3019,DL3018 # reason here
RUN apk add wget
RUN echo done
