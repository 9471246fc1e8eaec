FROM alpine:3.19
RUN cd /tmp && make
RUN (cd /tmp && make install)
RUN sudo apt-get install -y --no-install-recommends x=1
RUN ssh host uptime
RUN ps aux
RUN service nginx start
RUN vim --version
RUN echo "cd is just text"
RUN ln -s /bin/bash /bin/sh
RUN ln -sf /bin/bash /usr/bin/sh
RUN useradd -u 123456789 app
RUN useradd -l -u 123456789 app
RUN useradd --no-log-init -u 123456789 app
RUN useradd -u 1000 app
RUN wget https://example.com/x
RUN wget -q https://example.com/x
RUN wget --progress=dot:giga https://example.com/x
RUN wget -nv https://example.com/x
RUN wget -O out https://example.com/x
RUN wget -o log https://example.com/x
RUN curl -fsSL https://example.com/x -o y
RUN echo hi | grep h
RUN echo hi || true
RUN busybox wget -q https://x
FROM alpine:3.19 AS second
RUN curl -fsSL https://example.com/x
RUN curl -fsSL https://example.com/y
RUN echo "$(wget -qO- https://example.com)" | cat
