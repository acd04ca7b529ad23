/**
 * End-to-end fault matrix of the state model (docs/architecture.txt 6, spec 5.8), with real processes on loopback:
 * redis-server (standalone or a 3-master cluster), processing servers, relays and probes started from their packaged
 * jars, sealed sessions, a seeded UDP fault proxy, TLS viewers. Every scenario compares EVERY host pair's packet and
 * byte totals, per direction, with tshark's truth for the shared capture, in Redis and in a viewer connected through
 * the whole run, and checks that no viewer counter ever went down.
 *
 * <p>
 * The classes are {@code *IT}, tagged {@code e2e}, run by failsafe in the probe module's integration-test phase (the
 * server and relay modules are packaged by then). Alone, from the checkout's root:
 *
 * <pre>
 * mvn -B -Dformatter.skip=true -DskipTests package
 * mvn -B -Dformatter.skip=true -pl probe -am verify -Dit.test='org.glouglou.probe.e2e.*IT' -Dtest=none \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false
 * </pre>
 *
 * Each test keeps its processes' logs in {@code probe/target/e2e/CLASS/TEST}; a failing test prints their tails,
 * what the proxies did and what the viewers saw, and every scenario prints one {@code [e2e]} line with its figures
 * (host pairs exact, packets on the graph).
 */
package org.glouglou.probe.e2e;
