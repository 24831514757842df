#!/usr/bin/env bash
# Installs fake-gcs-server (the GCS emulator the integration tests run against) into .cache/bin.
# Idempotent: does nothing when the pinned version is already there. Needs Go on PATH and network
# (the Go module proxy) for a build; no Docker. Built once per machine into the shared cache outside
# the clone (see shared-cache.sh) and linked into each clone.
# Keep FAKE_GCS_SERVER_VERSION equal to the constant in test/support/fake-gcs.ts (a test checks it).
set -euo pipefail

FAKE_GCS_SERVER_VERSION="v1.56.1"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${repo_root}/.cache/bin"
binary="${bin_dir}/fake-gcs-server"
stamp="${binary}.version"
# shellcheck source=scripts/shared-cache.sh
source "${repo_root}/scripts/shared-cache.sh"

if [[ -x "${binary}" && -f "${stamp}" && "$(cat "${stamp}")" == "${FAKE_GCS_SERVER_VERSION}" ]]; then
  echo "fake-gcs-server ${FAKE_GCS_SERVER_VERSION} already installed at ${binary}"
  exit 0
fi
if place_from_shared_cache fake-gcs-server "${FAKE_GCS_SERVER_VERSION}" "${binary}"; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-fake-gcs: 'go' is not on PATH; install Go (https://go.dev/dl/) to build fake-gcs-server" >&2
  exit 1
fi

mkdir -p "${bin_dir}"
echo "installing fake-gcs-server ${FAKE_GCS_SERVER_VERSION} into ${bin_dir}"
GOBIN="${bin_dir}" go install "github.com/fsouza/fake-gcs-server@${FAKE_GCS_SERVER_VERSION}"
store_in_shared_cache fake-gcs-server "${FAKE_GCS_SERVER_VERSION}" "${binary}"
printf '%s' "${FAKE_GCS_SERVER_VERSION}" > "${stamp}"
echo "installed ${binary}"
