#!/usr/bin/env bash
# Installs an Apache Kafka broker (KRaft mode) for tests/setup/kafka-broker.ts: the jars of
# org.apache.kafka:kafka_2.13 and their runtime closure, resolved from Maven Central by Maven
# (the machine's mvn), into ~/.cache/maestro/kafka-<version>/libs. It runs on the machine's Java
# 17 (Kafka 4 brokers need 17+) with `java -cp 'libs/*' kafka.Kafka server.properties`, as the
# distribution's bin/kafka-server-start.sh does. Idempotent: a complete cache (the marker file)
# returns at once. Prints the libs folder on the last line.
set -euo pipefail

KAFKA_VERSION="4.1.1"
root="${MAESTRO_CACHE:-$HOME/.cache/maestro}/kafka-$KAFKA_VERSION"
libs="$root/libs"

if [ -f "$root/.complete" ]; then
  echo "$libs"
  exit 0
fi
for tool in java mvn; do
  if ! command -v "$tool" >/dev/null; then
    echo "kafka: $tool is missing (apt-get install openjdk-17-jre-headless maven); tasks/kafka's tests will fail until it is installed" >&2
    exit 0
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.summit-maestro</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
rm -rf "$libs"
mkdir -p "$libs"
# The local repository is part of the cache, so a second run (or a new version sharing jars)
# downloads nothing it has.
mvn -q -B -f "$work/pom.xml" \
  -Dmaven.repo.local="${MAESTRO_CACHE:-$HOME/.cache/maestro}/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >&2
touch "$root/.complete"
echo "$libs"
