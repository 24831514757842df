#!/usr/bin/env bash
# Installs the BigQuery emulator (goccy/bigquery-emulator, pure Go since v0.7: no CGO, no Docker)
# that the BigQuery integration tests run against, into .cache/bin.
# Idempotent: does nothing when the pinned version is already there. Needs Go (>= 1.25) on PATH
# and network (the Go module proxy) for a build.
# Keep BQ_EMULATOR_VERSION equal to the constant in test/support/bq-emulator.ts (a test checks it).
#
# Built once per machine: the binary is kept in a shared cache outside the clone
# (${XDG_CACHE_HOME:-$HOME/.cache}/audit-parity/bin/bigquery-emulator-<version>, see shared-cache.sh)
# and linked into each clone, so a second clone takes seconds.
# A cold build (empty Go module and build caches) is long and peaks near 6 GB of memory (the SQL
# engine is a very large generated Go package): 317 s on this project's 2-core machine, 1,889 s on
# another 2-core machine. With a warm Go build cache it is much shorter.
#
# Why not `go install …@version`: the module proxy here refuses the module's version *list*, which
# `go install` asks for to look up deprecations, and then fails. Building the same pinned version
# through a throwaway module resolves exactly the module's own go.mod requirements (one direct
# requirement, pruned module graph), i.e. the same dependency versions `go install` would use.
set -euo pipefail

BQ_EMULATOR_VERSION="v0.8.1"
BQ_EMULATOR_MODULE="github.com/goccy/bigquery-emulator"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${repo_root}/.cache/bin"
binary="${bin_dir}/bigquery-emulator"
stamp="${binary}.version"
# shellcheck source=scripts/shared-cache.sh
source "${repo_root}/scripts/shared-cache.sh"

if [[ -x "${binary}" && -f "${stamp}" && "$(cat "${stamp}")" == "${BQ_EMULATOR_VERSION}" ]]; then
  echo "bigquery-emulator ${BQ_EMULATOR_VERSION} already installed at ${binary}"
  exit 0
fi
start=${SECONDS}
if place_from_shared_cache bigquery-emulator "${BQ_EMULATOR_VERSION}" "${binary}"; then
  echo "installed ${binary} in $((SECONDS - start)) s"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-bq-emulator: 'go' is not on PATH; install Go >= 1.25 to build the BigQuery emulator" >&2
  exit 1
fi

build_dir="${repo_root}/.cache/bq-emulator-build"
rm -rf "${build_dir}"
mkdir -p "${build_dir}" "${bin_dir}"
cat > "${build_dir}/go.mod" <<EOF
module bq-emulator-build

go 1.25.0

require ${BQ_EMULATOR_MODULE} ${BQ_EMULATOR_VERSION}
EOF

echo "building bigquery-emulator ${BQ_EMULATOR_VERSION} into ${bin_dir} (5 to 30 minutes on a cold Go cache)"
(
  cd "${build_dir}"
  # -mod=mod fills go.sum from the checksum database as the build resolves each dependency.
  CGO_ENABLED=0 go build -mod=mod -ldflags "-s -w -X main.version=${BQ_EMULATOR_VERSION}" \
    -o "${binary}.tmp" "${BQ_EMULATOR_MODULE}/cmd/bigquery-emulator"
)
mv -f "${binary}.tmp" "${binary}"
store_in_shared_cache bigquery-emulator "${BQ_EMULATOR_VERSION}" "${binary}"
printf '%s' "${BQ_EMULATOR_VERSION}" > "${stamp}"
rm -rf "${build_dir}"
echo "installed ${binary} in $((SECONDS - start)) s"
