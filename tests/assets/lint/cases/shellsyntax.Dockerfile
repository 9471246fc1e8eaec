FROM debian:12
RUN set -eux; \
    savedAptMark="$(apt-mark showmanual)"; \
    apt-get update; \
    apt-get install -y --no-install-recommends gnupg=2 wget=1; \
    rm -rf /var/lib/apt/lists/*; \
    for key in A B; do gpg --batch --keyserver x --recv-keys "$key"; done; \
    case "$(dpkg --print-architecture)" in \
        amd64) arch='x86_64' ;; \
        arm64) arch='aarch64'; apt-get install curl ;; \
        *) echo >&2 "unsupported"; exit 1 ;; \
    esac; \
    if [ -n "$x" ]; then sudo true; elif [ -z "$y" ]; then kill 1; else cd /; fi; \
    while read -r line; do echo "$line"; done < /etc/passwd; \
    f() { ps; }; \
    { apt-get install -y bar; } 2>/dev/null; \
    echo "quoted | pipe && cd" 'single | quoted'; \
    echo `wget -q http://x`; \
    [[ -f /x ]] && top
RUN echo "a \"quoted\" string" \
 # a comment inside the continuation
 && apk add x
RUN export A=1 && command -v cd && exec sudo x
