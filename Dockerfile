# checkrunner as a container: config by mount (/config/schedules.yaml) or env, state in /data.
# The HEALTHCHECK will probe /healthz once the web surface lands; until then the process
# exiting is what the orchestrator sees.
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
ENTRYPOINT ["checkrunner"]
CMD ["run"]
