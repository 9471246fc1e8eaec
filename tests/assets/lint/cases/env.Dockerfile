FROM alpine:3.19
ARG ROOT=/opt
ENV A=1 B=$A
ENV C=${ROOT}/x D=$C/y
ENV E=1
ENV F=$E G=2
ENV H=$H1 H1=x
ENV PATH=/x:$PATH
ARG DB_PASSWORD
ARG GITHUB_TOKEN=abc
ENV API_KEY=x
ENV harmless=1
ENV my_secret_value=1 OTHER=2
ARG private_thing
ENV user_name=x
ENV USERNAME=x
