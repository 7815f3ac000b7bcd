# checkrunner as a container: config by mount (/config/schedules.yaml) or env, state in /data.
# HEALTHCHECK probes /healthz (scheduler ticking and on time, database reachable); slim images
# have no curl, so Python asks. It assumes server.listen on port 8090 (the default).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends monitoring-plugins-basic \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY checkrunner ./checkrunner
COPY checks ./checks
COPY templates ./templates
RUN pip install --no-cache-dir . && useradd --system --uid 10001 --home /data checkrunner \
 && mkdir -p /data /config && chown checkrunner /data

USER checkrunner
VOLUME ["/data"]
ENV CHECKRUNNER_CONFIG=/config/schedules.yaml \
    CHECKRUNNER_DATABASE_URL=sqlite:////data/checkrunner.db \
    PYTHONUNBUFFERED=1
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8090/healthz', timeout=8).status == 200 else 1)"]
ENTRYPOINT ["checkrunner"]
CMD ["run"]
