/** Throughput benchmarks runnable from the module's jar. */
package org.glouglou.module.network.bench;
