FROM alpine:3.19
RUN apk add --no-cache curl=8.5.0-r0 bash~5.2
RUN apk add curl
RUN apk add --no-cache --virtual .build-deps gcc=13 make=4
RUN apk add --no-cache -t .deps musl-dev=1
RUN apk --no-cache add ./local.apk
RUN apk add --update --no-cache --repository http://dl-cdn.alpinelinux.org/alpine/edge/testing pkg=1
RUN apk update && apk upgrade
RUN apk add -X https://repo/x --no-cache pkg=1
