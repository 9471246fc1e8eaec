FROM ruby:3.3-slim AS ruby
RUN gem install rails:7.1
RUN gem install rails
RUN gem install rails -v 7.1
RUN gem install rails --version=7.1
RUN gem i bundler
FROM golang:1.22 AS go
RUN go install example.com/tool@v1.2.3
RUN go install example.com/tool
RUN go install example.com/tool@latest
RUN go get example.com/lib
RUN go run example.com/cmd@v1 arg1 arg2
RUN go run example.com/cmd
RUN go run ./cmd/tool
RUN go build ./...
