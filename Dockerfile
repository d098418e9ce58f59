# tokenry in a slim image that runs as an unprivileged user.
#
#   docker build -t tokenry .
#   docker run --rm -v tokenry-data:/var/lib/tokenry tokenry init     # once: schema, first admin
#   docker run -d -p 8000:8000 -v tokenry-data:/var/lib/tokenry tokenry
#
# Any other command works the same way (`docker run ... tokenry tokens list`). Settings come
# from TOKENRY_* variables; deploy/compose.yaml runs two nodes on PostgreSQL behind nginx.

# The build stage turns tokenry and every dependency into wheels; only they reach the image.
FROM python:3.11-slim AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# --no-index: the image installs from the wheels built above and downloads nothing.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels tokenry \
    && useradd --system --user-group --uid 10001 --home-dir /var/lib/tokenry --create-home \
       --shell /usr/sbin/nologin tokenry

# The SQLite database (the default) and the generated server secret live in this volume.
# On PostgreSQL only the secret does; set TOKENRY_SECRET_KEY instead to keep none on disk.
WORKDIR /var/lib/tokenry
VOLUME /var/lib/tokenry
ENV TOKENRY_HOST=0.0.0.0 \
    TOKENRY_PORT=8000 \
    TOKENRY_SECRET_KEY_FILE=/var/lib/tokenry/tokenry.secret
USER tokenry:tokenry
EXPOSE 8000

# Liveness only (/healthz does no I/O); point a load balancer's readiness check at /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TOKENRY_PORT', '8000') + '/healthz', timeout=2)"]

ENTRYPOINT ["tokenry"]
CMD ["serve"]
