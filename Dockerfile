# The HER2 CDS Hooks service, for docker-compose and deployment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HER2_CDS_MAPPINGS_DIR=/app/mappings \
    HER2_CDS_CARDS_DIR=/app/cards \
    HER2_CDS_DATABASE_URL=sqlite:////data/feedback.sqlite3 \
    HER2_CDS_WORKERS=2

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cds_service ./cds_service
RUN pip install --no-cache-dir ".[postgres]" && useradd --system --uid 10001 cds && mkdir /data && chown cds /data
COPY mappings ./mappings
COPY cards ./cards
COPY examples ./examples

USER cds
EXPOSE 8080
# Inside a container the service must listen on all interfaces; publish the port on 127.0.0.1 (see compose).
CMD ["her2-cds", "serve", "--host", "0.0.0.0", "--port", "8080"]
