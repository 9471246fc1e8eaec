FROM debian:12 AS base
RUN apt-get -q install --no-install-recommends foo=1
RUN apt-get -q -q install --no-install-recommends foo=1
RUN apt-get -qqq install --no-install-recommends foo=1
RUN apt-get -q=2 install --no-install-recommends foo=1
RUN apt-get -qq install --no-install-recommends foo=1
RUN apt-get install -y --no-install-recommends "foo=1" 'bar=2' baz\=3
RUN apt-get install -y --no-install-recommends $PKGS
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends foo
RUN pip install --no-cache-dir -e git+https://x/y.git#egg=y flask==1
RUN pip install --no-cache-dir "flask>=1" 'django<5'
RUN pip3.12 install --no-cache-dir requests
RUN npm install --save-dev jest@29 && npm install --production
RUN wget -O- https://x | tar -xz
RUN curl -s https://x | bash
RUN sh -c "cd /x && make"
RUN useradd --uid 1234567 app
RUN useradd -u 12345 app
EXPOSE 8080/tcp 9090-9091/udp
ENV A=1 \
    B=2
ENV PATH="/opt/bin:${PATH}"
ENV X=$Y Y=1
WORKDIR /app
COPY --chown=app:app . .
ADD --chown=1 "file.tar.xz" /x/
HEALTHCHECK --interval=5s CMD curl -f http://localhost/ || exit 1
ENTRYPOINT ["/entry.sh"]
CMD ["run"]
