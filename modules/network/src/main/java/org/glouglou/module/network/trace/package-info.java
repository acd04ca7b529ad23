/** Hop distances estimated from the TTL of received packets (TRACE events). */
package org.glouglou.module.network.trace;
