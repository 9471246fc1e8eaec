FROM alpine:3.19 AS build
WORKDIR app
WORKDIR /srv
WORKDIR $HOME/x
WORKDIR "relative"
EXPOSE 80 443/tcp 8000-8100 65536
EXPOSE 70000/udp
EXPOSE $PORT
ADD app.tar.gz /opt/
ADD https://example.com/file.txt /opt/
ADD config.json /etc/
ADD --chown=1:1 a.tgz b.txt /opt/
COPY a b /dest
COPY a b /dest/
COPY ["a", "b", "/dest"]
COPY single /single
CMD echo shell form
CMD ["exec", "form"]
ENTRYPOINT /bin/sh -c "x"
ENTRYPOINT ["/entry"]
HEALTHCHECK CMD true
HEALTHCHECK NONE
MAINTAINER someone@example.com
FROM alpine:3.19
HEALTHCHECK CMD true
CMD ["one"]
COPY --from=build / /
COPY --from=build /app /app
