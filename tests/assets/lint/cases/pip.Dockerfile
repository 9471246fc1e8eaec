FROM python:3.12-slim AS one
RUN pip install --no-cache-dir flask==3.0 requests>=2
RUN pip install flask
RUN pip3 install --no-cache-dir -r requirements.txt
RUN pip install --no-cache-dir --requirement requirements.txt
RUN pip install --no-cache-dir .
RUN pip install --no-cache-dir -c constraints.txt flask
RUN python -m pip install --no-cache-dir django
RUN python3 -m pip install --no-cache-dir django==5
RUN pip install --no-cache-dir git+https://github.com/x/y@v1.0 ./pkg.whl dist/pkg.tar.gz ./local/dir
RUN pip install --no-cache-dir git+https://github.com/x/y
RUN pip install --no-cache-dir -i https://pypi.example/simple flask==1
RUN pip install --no-cache-dir --upgrade pip
RUN pipx install black==24
RUN pipenv install
RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3
RUN PIP_NO_CACHE_DIR=1 pip install flask==3
FROM python:3.12-slim AS two
ENV PIP_NO_CACHE_DIR=1
RUN pip install flask==3
FROM two AS three
RUN pip install flask==3
FROM python:3.12-slim AS four
ENV PIP_NO_CACHE_DIR=false
RUN pip install flask==3
