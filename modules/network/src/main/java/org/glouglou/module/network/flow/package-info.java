/**
 * The flow table: NEWCONN, DATA and DELCONN events from counted packets, on packet time so that offline replay is
 * deterministic.
 */
package org.glouglou.module.network.flow;
