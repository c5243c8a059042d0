# The HER2 CDS Hooks service, for docker-compose and deployment.
#   docker build -t her2-cds:local --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE=<repository URL> .
FROM python:3.11-slim

# VERSION follows cds_service.__version__ (a test holds them together); REVISION and SOURCE come from the build.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="her2-cds-hooks" \
      org.opencontainers.image.description="CDS Hooks 2.0 service for HER2-targeted breast cancer therapy (2025 Chinese expert consensus)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HER2_CDS_MAPPINGS_DIR=/app/mappings \
    HER2_CDS_CARDS_DIR=/app/cards \
    HER2_CDS_DATABASE_URL=sqlite:////data/feedback.sqlite3 \
    HER2_CDS_WORKERS=2

WORKDIR /app
# Dependencies first, from the pinned list alone: this layer is rebuilt when constraints.txt changes, not on
# every code or pyproject edit.
COPY constraints.txt ./
RUN pip install -r constraints.txt \
    && useradd --system --uid 10001 --no-create-home cds && mkdir /data && chown cds /data

# Then the package, without resolving anything again; `pip check` fails the build when pyproject.toml names a
# dependency constraints.txt lacks (run `make constraints`). The build copies cards/, mappings/ and
# examples/synthetic into the package too, so the image also runs without the folders below.
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY cds_service ./cds_service
COPY mappings ./mappings
COPY cards ./cards
COPY examples ./examples
RUN pip install --no-deps --no-build-isolation . && pip check && rm -rf build *.egg-info

USER cds
EXPOSE 8080
# Liveness from inside the container (slim images have no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
# Inside a container the service must listen on all interfaces; publish the port on 127.0.0.1 (see compose).
CMD ["her2-cds", "serve", "--host", "0.0.0.0", "--port", "8080"]
