// DPDK telemetry commands for a RouteTable (issue 6: routes change at run
// time through a control interface while traffic flows).
//
//   /qcfwd/routes                       {"version", "count", "updates", "routes": ["10.1.0.0/16
//   port 1", ...]} /qcfwd/route_add,<route text>       {"ok": 1, "route", "version"} or {"error":
//   "route \"...\": bad token ..."} /qcfwd/route_del,<prefix/len>       {"ok": 1, "removed",
//   "version"} or {"error": ...}
//
// The callbacks run on DPDK's telemetry thread (a housekeeping thread, not a
// QSBR reader), so an update there waits for the grace period itself. The
// socket is /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET;
// $XDG_RUNTIME_DIR/dpdk/<file-prefix>/ when not root). Checked here with
// --no-huge --no-shconf (the only runtime file then) and plain --no-huge; it is
// absent with --no-telemetry. (DPDK 22.11 refuses --no-huge with --in-memory:
// --no-huge implies legacy memory.) EAL creates the
// directory 0700, so only its owner (root for qc-fwd) can change routes:
// that is the access control. Client: tools/qc-fwd/qc-fwd-ctl.
#pragma once

#include <string>
#include <string_view>

#include "quietcore/dataplane/route_table.hpp"

namespace qc::dataplane {

// Registers the commands once per process (DPDK has no unregister) and points
// them at `table`; a later call re-points them. The table's destructor
// detaches it (commands then answer {"error": "no route table"}). Call after
// rte_eal_init.
void register_route_telemetry(RouteTable& table);

// What the callbacks do, without DPDK's socket: the JSON-able result as
// key/value pairs is produced by the callback itself; these return the
// error text ("" on success) so a test can check the parsing directly.
std::string route_telemetry_add(RouteTable& table, std::string_view params);
std::string route_telemetry_del(RouteTable& table, std::string_view params);

namespace detail {
void detach_route_telemetry(const RouteTable* table) noexcept;
}  // namespace detail

}  // namespace qc::dataplane
