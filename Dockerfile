# syntax=docker/dockerfile:1
# Redline's image, run by docker-compose.yml as `redline api` and `redline worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
# constraints.txt is the lock file: the image gets exactly the versions CI tested.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -c constraints.txt . \
 && useradd --system --uid 10001 --no-create-home redline \
 && mkdir -p /data && chown redline /data

# the worker's local state store (RocksDB), rebuilt from its changelog when empty
ENV REDLINE_DATA_DIR=/data/worker
USER redline
EXPOSE 8000 9400
CMD ["redline", "--help"]
