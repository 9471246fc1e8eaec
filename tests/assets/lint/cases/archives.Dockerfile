FROM alpine:3.19 AS one
COPY app.tar.gz /tmp/
RUN tar -xzf /tmp/app.tar.gz -C /opt
COPY other.zip data.tgz /tmp/
RUN unzip /tmp/other.zip
COPY notextracted.tar /tmp/
FROM alpine:3.19
COPY stuff.tar.xz /tmp/stuff.tar.xz
RUN tar --extract -f /tmp/stuff.tar.xz
COPY kept.tar.gz /srv/
RUN gunzip /srv/kept.tar.gz
