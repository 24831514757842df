#!/usr/bin/env bash
# Installs the Apache Kafka broker jars (the server the Kafka integration tests run on loopback)
# into .cache/kafka/libs, from Maven Central through Maven: kafka_2.13 and its runtime dependencies,
# plus slf4j-reload4j so the broker's log4j config is honoured. Needs java and mvn on PATH; no Docker,
# no tarball download.
# Idempotent: does nothing when the pinned version is already there (a stamp file records it).
# Keep KAFKA_VERSION equal to KAFKA_VERSION in test/support/kafka-brokers.ts.
#
#   bash scripts/install-kafka.sh              jars only (what CI and the tests need)
#   bash scripts/install-kafka.sh --with-kcat  also Debian's kcat, for the benchmarks (needs root/apt)
set -euo pipefail

# 3.9.2 is the newest 3.9 patch Maven Central serves (3.9.3 is not published). The 3.9 line logs
# through reload4j (log4j 1.x): the log4j.properties that kafka-brokers.ts writes is for it (4.x
# moved to log4j2).
KAFKA_VERSION="3.9.2"
# The slf4j binding Kafka 3.9's own distribution ships: slf4j-api 1.7.36 comes with kafka_2.13.
SLF4J_VERSION="1.7.36"

with_kcat=false
for arg in "$@"; do
  case "${arg}" in
    --with-kcat) with_kcat=true ;;
    -h | --help)
      sed -n '2,10p' "$0"
      exit 0
      ;;
    *)
      echo "install-kafka: unknown argument '${arg}' (expected --with-kcat)" >&2
      exit 2
      ;;
  esac
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kafka_dir="${repo_root}/.cache/kafka"
libs_dir="${kafka_dir}/libs"
stamp="${kafka_dir}/libs.version"
wanted_stamp="${KAFKA_VERSION} slf4j-reload4j-${SLF4J_VERSION}"

install_kcat() {
  if command -v kcat >/dev/null 2>&1; then
    echo "kcat already installed: $(command -v kcat)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-kafka: --with-kcat needs apt-get (Debian's kcat package)" >&2
    return 1
  fi
  apt-get update -qq
  candidate="$(apt-cache policy kcat | awk '/Candidate:/ { print $2 }')"
  if [[ -z "${candidate}" || "${candidate}" == "(none)" ]]; then
    echo "install-kafka: Debian's kcat package is not installable here (apt-cache policy kcat: no candidate)" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat
  echo "installed kcat ${candidate}"
}

if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${wanted_stamp}" ]] \
  && compgen -G "${libs_dir}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null; then
  echo "kafka ${KAFKA_VERSION} jars already installed in ${libs_dir}"
else
  for tool in java mvn; do
    if ! command -v "${tool}" >/dev/null 2>&1; then
      echo "install-kafka: '${tool}' is not on PATH; install a JDK 17+ and Maven (Debian: openjdk-17-jdk-headless maven)" >&2
      exit 1
    fi
  done

  build_dir="$(mktemp -d "${TMPDIR:-/tmp}/install-kafka.XXXXXX")"
  staging="${kafka_dir}/libs.partial"
  trap 'rm -rf "${build_dir}" "${staging}"' EXIT
  # A throwaway pom whose only job is to name the broker; copy-dependencies resolves the runtime
  # closure (kafka_2.13's runtime-scoped modules: server, raft, metadata, storage, coordinators...).
  cat >"${build_dir}/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.audit-parity</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF

  echo "installing kafka ${KAFKA_VERSION} jars into ${libs_dir}"
  rm -rf "${staging}"
  mkdir -p "${staging}"
  # Maven's own output only matters when it fails (and -q still prints ANSI resets).
  if ! mvn -B -Dstyle.color=never -f "${build_dir}/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="${staging}" >"${build_dir}/mvn.log" 2>&1; then
    tail -n 60 "${build_dir}/mvn.log" >&2
    echo "install-kafka: mvn dependency:copy-dependencies failed for org.apache.kafka:kafka_2.13:${KAFKA_VERSION}" >&2
    exit 1
  fi
  if ! compgen -G "${staging}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null; then
    echo "install-kafka: mvn succeeded but kafka_2.13-${KAFKA_VERSION}.jar is missing from ${staging}" >&2
    exit 1
  fi
  # Swap in whole so a half-finished copy is never mistaken for an install.
  rm -rf "${libs_dir}"
  mv "${staging}" "${libs_dir}"
  printf '%s' "${wanted_stamp}" >"${stamp}"
  echo "installed $(find "${libs_dir}" -name '*.jar' | wc -l) jars into ${libs_dir}"
fi

if [[ "${with_kcat}" == true ]]; then
  install_kcat
fi
