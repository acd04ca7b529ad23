#!/bin/sh
# Codec throughput (JMH, CodecBenchmark) and bytes on the wire per flow (WireCost) for spec section 9.
# Usage: scripts/bench-codec.sh [jmh options...]   e.g. scripts/bench-codec.sh -f 2 -wi 3 -i 5
# Builds protocol-spec and modules/network (tests compiled, not run), then runs both from the test class path.
set -eu
cd "$(dirname "$0")/.."
# in one reactor run, so the protocol's test jar resolves to its classes (no installed snapshot needed)
mvn -B -q -o -pl protocol-spec,modules/network -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
# the reactor's own classes first, so the benchmark measures this tree, not an installed snapshot
CP=modules/network/target/test-classes:modules/network/target/classes:protocol-spec/target/classes
CP=$CP:protocol-spec/target/test-classes:$(cat modules/network/target/bench-classpath.txt)
java -cp "$CP" -Dglouglou.pcaps="${GLOUGLOU_PCAPS:-../shared/pcaps}" org.glouglou.module.network.bench.WireCost
java -cp "$CP" org.openjdk.jmh.Main CodecBenchmark "$@"
