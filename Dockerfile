# syntax=docker/dockerfile:1
# One image for the four services; the command picks one:
#   fivetype serve <measures|inspections|scoring|notifications>   (the long-running service)
#   fivetype migrate <service>                                    (the migration job)
# Runs as UID 10001 with a read-only root filesystem (only /tmp needs to be writable).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/fivetype
WORKDIR /src
# Dependencies first, exactly as locked (every file hash-checked), so a code change reuses this
# layer; requirements.txt is the services' part of the lock (`make lock`).
COPY requirements.txt ./
RUN /opt/fivetype/bin/pip install --require-hashes --requirement requirements.txt
COPY pyproject.toml README.md ./
COPY contracts ./contracts
COPY services ./services
COPY fivetype ./fivetype
# Compiled ahead of time: the root filesystem is read-only at run time.
RUN /opt/fivetype/bin/pip install --no-deps . \
    && /opt/fivetype/bin/python -m compileall -q /opt/fivetype/lib

FROM ${PYTHON_IMAGE}
ARG UID=10001
RUN groupadd --system --gid ${UID} fivetype \
    && useradd --system --uid ${UID} --gid ${UID} --home-dir /var/lib/fivetype \
        --shell /usr/sbin/nologin fivetype \
    && install --directory --owner ${UID} --group ${UID} /var/lib/fivetype
COPY --from=build /opt/fivetype /opt/fivetype
ENV PATH=/opt/fivetype/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The working directory is where `fivetype run` or a SQLite default would keep data; the chart
# uses PostgreSQL and never writes here.
WORKDIR /var/lib/fivetype
USER 10001:10001
EXPOSE 8101 8102 8103 8104
CMD ["fivetype", "--help"]
