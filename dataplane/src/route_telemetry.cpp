// /qcfwd/routes, /qcfwd/route_add, /qcfwd/route_del (route_telemetry.hpp).
#include "quietcore/dataplane/route_telemetry.hpp"

// DPDK 22.11 headers use ++/-- on volatile (deprecated in C++20).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvolatile"
#include <rte_telemetry.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <exception>
#include <mutex>
#include <string>

#include "quietcore/core/error.hpp"

namespace qc::dataplane {

namespace {

// Telemetry limits (rte_telemetry.h): 512 array entries, 16 KiB of output;
// routes listed beyond this are counted, not shown.
constexpr unsigned kMaxListed = 256;

std::mutex g_mutex;  // held while a callback uses g_table; the destructor waits on it
RouteTable* g_table = nullptr;
std::once_flag g_registered;

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

void put_error(rte_tel_data* d, const std::string& message, std::string_view input) {
    rte_tel_data_add_dict_string(d, "error", message.c_str());
    rte_tel_data_add_dict_string(d, "input", std::string(input).c_str());
}

void put_version(rte_tel_data* d, const RouteTable& table) {
    const RouteStats s = table.stats();
    rte_tel_data_add_dict_u64(d, "version", s.version);
    rte_tel_data_add_dict_u64(d, "count", s.count);
    rte_tel_data_add_dict_u64(d, "updates", s.updates);
}

int routes_cb(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    rte_tel_data_start_dict(d);
    if (g_table == nullptr) {
        put_error(d, "no route table", "");
        return 0;
    }
    put_version(d, *g_table);
    const std::vector<Route> routes = g_table->routes();
    rte_tel_data* list = rte_tel_data_alloc();
    if (list == nullptr) {
        return -1;
    }
    rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
    const std::size_t n = std::min<std::size_t>(routes.size(), kMaxListed);
    for (std::size_t i = 0; i < n; ++i) {
        rte_tel_data_add_array_string(list, to_string(routes[i]).c_str());
    }
    rte_tel_data_add_dict_container(d, "routes", list, 0);
    rte_tel_data_add_dict_u64(d, "listed", n);
    return 0;
}

template <typename Apply>
int update_cb(const char* params, rte_tel_data* d, Apply apply) {
    std::lock_guard lock(g_mutex);
    rte_tel_data_start_dict(d);
    const std::string_view input = params == nullptr ? std::string_view{} : params;
    if (g_table == nullptr) {
        put_error(d, "no route table", input);
        return 0;
    }
    const std::string error = apply(*g_table, input);
    if (!error.empty()) {
        put_error(d, error, input);
        return 0;
    }
    rte_tel_data_add_dict_int(d, "ok", 1);
    put_version(d, *g_table);
    return 0;
}

int route_add_cb(const char*, const char* params, rte_tel_data* d) {
    return update_cb(params, d, route_telemetry_add);
}

int route_del_cb(const char*, const char* params, rte_tel_data* d) {
    return update_cb(params, d, route_telemetry_del);
}

}  // namespace

std::string route_telemetry_add(RouteTable& table, std::string_view params) {
    try {
        table.add(parse_route(trim(params)));
        return {};
    } catch (const std::exception& e) {
        return e.what();
    }
}

std::string route_telemetry_del(RouteTable& table, std::string_view params) {
    try {
        const RoutePrefix p = parse_route_prefix(trim(params));
        if (!table.remove(p.prefix, p.depth)) {
            return "no route " + trim(params);
        }
        return {};
    } catch (const std::exception& e) {
        return e.what();
    }
}

void register_route_telemetry(RouteTable& table) {
    {
        std::lock_guard lock(g_mutex);
        g_table = &table;
    }
    std::call_once(g_registered, [] {
        const int rc = rte_telemetry_register_cmd("/qcfwd/routes", routes_cb,
                                                  "Routes of qc-fwd's l3fwd table. No parameters");
        const int rc_add = rte_telemetry_register_cmd(
            "/qcfwd/route_add", route_add_cb,
            "Adds or replaces a route. Parameters: PREFIX/LEN port N [mac MAC]");
        const int rc_del = rte_telemetry_register_cmd("/qcfwd/route_del", route_del_cb,
                                                      "Removes a route. Parameters: PREFIX/LEN");
        if (rc != 0 || rc_add != 0 || rc_del != 0) {
            throw core::Error("route telemetry: rte_telemetry_register_cmd failed");
        }
    });
}

namespace detail {
void detach_route_telemetry(const RouteTable* table) noexcept {
    std::lock_guard lock(g_mutex);
    if (g_table == table) {
        g_table = nullptr;
    }
}
}  // namespace detail

}  // namespace qc::dataplane
