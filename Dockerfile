# audit-parity: the daily parity reconciliation, as a batch image.
#
#   docker build --build-arg PARITY_REVISION=$(git rev-parse HEAD) -t audit-parity .
#   docker run --rm audit-parity                                   # --help
#   docker run --rm --read-only --tmpfs /tmp --user "$(id -u):$(id -g)" -v "$PWD/reports:/reports" audit-parity demo --out /reports
#   (--user: the image runs as uid 10001, which cannot write a host folder it does not own)
#
# Debian bookworm (glibc), not Alpine: DuckDB's prebuilt binary (@duckdb/node-bindings-linux-*)
# is linked against glibc. No secrets are baked in or passed as build arguments: Google Cloud
# credentials come from Application Default Credentials (Workload Identity in the cluster), the
# webhook URL and Kafka passwords from environment variables set at run time.
#
# test/integration/deploy.test.ts replays the final stage's install and start steps in a clean
# copy of the package and asserts the commands below, so edit the two together.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: every dependency, then the TypeScript compiled into dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The lockfile first, so that the dependency layer is reused while only sources change.
# --ignore-scripts: the package's own `prepare` would compile sources not copied yet; it runs below.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && chmod +x dist/jobs/main.js

# ---- runtime: production dependencies, the compiled code and the SQL, nothing else ----
FROM ${NODE_IMAGE} AS runtime
ARG PARITY_REVISION=""
LABEL org.opencontainers.image.title="audit-parity" \
      org.opencontainers.image.description="Daily data-parity reconciliation of the audit logging pipeline: proxy, Kafka, GCS, BigQuery" \
      org.opencontainers.image.revision="${PARITY_REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. --ignore-scripts because `prepare` needs tsc, a devDependency;
# no runtime dependency has an install script (DuckDB's binary is a per-platform npm package),
# and installing here rather than copying node_modules picks the binary of the target platform.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY --from=build /src/queries ./queries
# The code stays owned by root and read-only to the job's user; only /reports is its own.
RUN groupadd --system --gid 10001 parity \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin parity \
 && mkdir -p /reports \
 && chown 10001:10001 /reports
# TMPDIR: staged objects and DuckDB's spill files go to /tmp (an emptyDir or tmpfs: the root
# filesystem is read-only). HOME: nothing is meant to write there, but a library that insists
# finds a writable folder rather than failing on a read-only one. (Set after the install, so that
# npm's cache does not land in /tmp.) PARITY_REVISION: written into every run's manifest.
ENV TMPDIR=/tmp \
    HOME=/tmp \
    PARITY_REVISION=${PARITY_REVISION}
USER 10001:10001
# Relative output folders (the default `--out reports`) land in the writable volume.
WORKDIR /reports
VOLUME ["/reports"]
# Node as PID 1 is fine here: the CLI handles SIGTERM and SIGINT itself (exit 143/130, no partial report).
ENTRYPOINT ["node", "/app/dist/jobs/main.js"]
CMD ["--help"]
