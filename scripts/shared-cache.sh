# Sourced by the install scripts: a tool is built once per machine into a shared cache outside
# the clone, ${AUDIT_PARITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/audit-parity}/bin/<tool>-<version>,
# and each clone's .cache/bin gets a hard link to it (a copy across file systems), so a second clone,
# or CI on the same machine, skips the build. A link, not a symlink: deleting the shared cache
# leaves every clone's binary working.

shared_bin_dir="${AUDIT_PARITY_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/audit-parity}/bin"

# place_from_shared_cache <tool> <version> <binary>: links the cached build into the clone and
# writes the version stamp; fails (status 1) when the shared cache has no such build.
place_from_shared_cache() {
  local cached="${shared_bin_dir}/$1-$2"
  [[ -x "${cached}" ]] || return 1
  mkdir -p "$(dirname "$3")"
  ln -f "${cached}" "$3" 2>/dev/null || cp -f "${cached}" "$3"
  printf '%s' "$2" > "$3.version"
  echo "$1 $2 taken from the shared cache ${cached}"
}

# store_in_shared_cache <tool> <version> <binary>: keeps a fresh build for the next clone. Best
# effort: an unwritable cache only costs the next clone a build.
store_in_shared_cache() {
  local cached="${shared_bin_dir}/$1-$2"
  if mkdir -p "${shared_bin_dir}" 2>/dev/null && cp -f "$3" "${cached}.tmp.$$" 2>/dev/null; then
    mv -f "${cached}.tmp.$$" "${cached}"
  else
    echo "note: could not keep $1 in the shared cache ${shared_bin_dir}" >&2
  fi
}
