#!/usr/bin/env bash
# Fetches the pinned Apache Kafka broker (KRaft) and a log4j2 backend from Maven Central into
# .local/kafka/libs, using deploy/local/kafka/pom.xml. Idempotent: a stamp holding the pom's
# checksum skips the work when the jars are already there; editing the pom refetches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
POM="$ROOT/deploy/local/kafka/pom.xml"
KAFKA_HOME="$ROOT/.local/kafka"
LIBS="$KAFKA_HOME/libs"
STAMP="$KAFKA_HOME/.installed"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

want="$(sha256sum "$POM" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] && compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    exit 0
fi

command -v mvn >/dev/null || { echo "install-kafka: Maven (mvn) is required: apt-get install -y maven" >&2; exit 1; }
command -v java >/dev/null || { echo "install-kafka: Java 17+ is required: apt-get install -y openjdk-17-jre-headless" >&2; exit 1; }

echo "install-kafka: fetching Kafka jars into $LIBS"
mkdir -p "$KAFKA_HOME"
staging="$(mktemp -d "$KAFKA_HOME/libs.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
# Maven's own output goes to a log and is shown only when it fails.
if ! mvn -B -Dstyle.color=never -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$staging" >"$KAFKA_HOME/maven.log" 2>&1; then
    tail -n 40 "$KAFKA_HOME/maven.log" >&2
    echo "install-kafka: Maven failed; full log in $KAFKA_HOME/maven.log" >&2
    exit 1
fi
# Swap the whole folder so a half-finished download never looks installed.
rm -rf "$LIBS"
mv "$staging" "$LIBS"
chmod 755 "$LIBS"
echo "$want" > "$STAMP"
echo "install-kafka: $(find "$LIBS" -name "*.jar" | wc -l) jars installed"
