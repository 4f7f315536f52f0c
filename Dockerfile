# dematflow image: the pipeline with its OCR tools (tesseract fra+eng, poppler) for the workers, and the
# HTTP API with the portal's web assets (htmx, installed from the npm registry at build time).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        tesseract-ocr \
        tesseract-ocr-fra \
        tesseract-ocr-eng \
        poppler-utils \
        npm \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user owns the data directory; a named volume mounted there inherits the ownership.
RUN useradd --system --create-home --uid 10001 dematflow \
    && mkdir -p /data \
    && chown dematflow:dematflow /data

WORKDIR /app
COPY . /app
RUN cd api/static && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && cd /app && pip install . -c requirements/constraints.txt && tesseract --list-langs && pdfsig -v

USER dematflow
ENV DEMATFLOW_DATA_DIR=/data
VOLUME ["/data"]

CMD ["dematflow", "worker"]
