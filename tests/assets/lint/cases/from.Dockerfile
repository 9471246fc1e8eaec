ARG BASE=alpine:3.19
FROM $BASE AS varbase
FROM ubuntu AS untagged
FROM untagged AS fromstage
FROM scratch AS empty
FROM debian@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS digested
FROM python:latest AS latest
FROM node:latest@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS pinnedlatest
FROM my.registry.io/team/app:1.0 AS private
FROM --platform=linux/amd64 golang:1.22 AS fixedplatform
FROM --platform=$BUILDPLATFORM golang:1.22 AS buildplatform
FROM --platform=$TARGETPLATFORM alpine:3.19 AS redundant
FROM alpine:3.19 AS scratch
FROM alpine:3.19 AS context
FROM alpine:3.19 AS latest
FROM Untagged
CMD ["true"]
