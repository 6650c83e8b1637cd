# Sophia MCP for the hub: streamable HTTP on port 8000, as a non-root user, on a slim base.
#   docker build -t sophia-mcp .
#   docker run -p 8000:8000 -e SOPHIA_HTTP_TOKEN=$(openssl rand -hex 32) -e AIRBYTE_CLIENT_ID=… \
#     -e AIRBYTE_CLIENT_SECRET=… -e SOPHIA_POSTGRES_URL=… -e QDRANT_URL=… sophia-mcp
# The token is required (the server refuses to listen beyond loopback without one); /healthz needs none.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin sophia
WORKDIR /app
COPY pyproject.toml README.md LICENSE CHANGELOG.md ./
COPY sophia_mcp ./sophia_mcp

# The README's core install: every tool against your own Airbyte, Postgres and Qdrant (no demo parts).
RUN python3 -m venv .venv && .venv/bin/pip install -e .

USER sophia
ENV PATH=/app/.venv/bin:$PATH \
    SOPHIA_LOG_FORMAT=json \
    SOPHIA_LOG_LEVEL=INFO
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["sophia-mcp"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
