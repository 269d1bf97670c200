# Drawdown: one image for every role; the command picks it (run | process | migrate | replay DIR).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_NO_CACHE=1

# The uv that wrote uv.lock.
RUN pip install --no-cache-dir "uv==0.13.8"

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY services ./services
COPY ingest ./ingest
COPY processor ./processor
COPY migrations ./migrations
COPY alembic.ini ./
COPY seeds ./seeds
RUN uv sync --frozen --no-dev

# Code and venv stay root-owned (read-only to the service); the user may only
# create files in /app, e.g. the default SQLite drawdown.db.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin drawdown \
    && chown drawdown /app \
    && mkdir /data && chown drawdown /data
USER drawdown

ENV PATH="/app/.venv/bin:$PATH" \
    DRAWDOWN_HTTP_ADDR=0.0.0.0:8000 \
    DRAWDOWN_DATABASE_URL=sqlite+aiosqlite:////data/drawdown.db

# Inside a container the API listens on every interface, so `docker run -p 8000:8000`
# reaches it; the embedded default keeps its SQLite file in the /data volume.
VOLUME /data
EXPOSE 8000

ENTRYPOINT ["drawdown"]
CMD ["run"]
