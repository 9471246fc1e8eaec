FROM alpine:3.19
ONBUILD RUN apk add curl && cd /x
ONBUILD RUN pip install flask && npm install express
ONBUILD RUN apt-get update && apt-get install foo
ONBUILD ENV SECRET_TOKEN=x
ONBUILD RUN wget http://x && curl http://y
ONBUILD RUN echo a | cat
ONBUILD COPY a b c
ONBUILD USER root
