// kconfig.*: the build options isolation depends on, from
// /boot/config-<release>; without that file, from what only such a kernel
// shows in /proc and /sys.
#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"
#include "checks_boot/kernel_config.hpp"
#include "checks_boot/proc_task.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kSysNohzFull = "/sys/devices/system/cpu/nohz_full";
constexpr std::string_view kPid1TaskIsolation = "/proc/1/task_isolation";
constexpr std::string_view kPid1Status = "/proc/1/status";

struct ConfigFile {
    std::string path;  // "/boot/config-6.1.0-qc"; empty when the release is unknown
    std::optional<KernelConfig> config;
    std::string missing;  // why there is no config, for summaries
};

ConfigFile read_config(const CheckContext& ctx) {
    ConfigFile file;
    if (ctx.kernel_release.empty()) {
        file.missing =
            "the kernel release is unknown (/proc/sys/kernel/osrelease), so no "
            "/boot/config-<release> was read";
        return file;
    }
    file.path = "/boot/config-" + ctx.kernel_release;
    if (const auto text = ctx.sys->read(file.path)) {
        file.config = parse_kernel_config(*text);
        return file;
    }
    file.missing = file.path + " not found";
    if (ctx.sys->exists("/proc/config.gz")) {
        file.missing += "; /proc/config.gz exists but is compressed and was not read";
    }
    return file;
}

enum class Symbol { yes, no, malformed };

struct SymbolValue {
    Symbol state = Symbol::no;
    std::string line;  // "CONFIG_X=y", "# CONFIG_X is not set", the malformed line, or ""
};

SymbolValue lookup(const KernelConfig& config, std::string_view symbol) {
    if (const auto bad = config.malformed_line_for(symbol)) {
        return {Symbol::malformed, *bad};
    }
    const auto value = config.value(symbol);
    if (!value) {
        return {Symbol::no, ""};
    }
    if (*value == "n") {
        return {Symbol::no, "# " + std::string(symbol) + " is not set"};
    }
    return {*value == "y" ? Symbol::yes : Symbol::no, std::string(symbol) + "=" + *value};
}

// The evidence value of a symbol: its line, or that there is none.
std::string evidence_value(std::string_view symbol, const SymbolValue& v) {
    return v.line.empty() ? "(no " + std::string(symbol) + " line)" : v.line;
}

std::string not_set_text(const ConfigFile& file, std::string_view symbol, const SymbolValue& v) {
    return v.line.empty() ? std::string(symbol) + " is not in " + file.path
                          : v.line + " in " + file.path;
}

CheckResult malformed_symbol(const ConfigFile& file, const SymbolValue& v) {
    return check_fail(file.path + ": bad token \"" + v.line + "\": not SYMBOL=value",
                      {{file.path, v.line}},
                      "inspect " + file.path +
                          ": a kernel build never writes such a line; "
                          "reinstall the kernel package or copy the build's .config there");
}

constexpr std::string_view kBuildFix =
    "boot a kernel built with CONFIG_NO_HZ_FULL=y, CONFIG_RCU_NOCB_CPU=y and "
    "CONFIG_TASK_ISOLATION=y (kernel/README.md builds one from Debian's linux-source-6.1 with "
    "the quietcore patches)";

CheckResult check_no_hz_full(const CheckContext& ctx) {
    const ConfigFile file = read_config(ctx);
    if (file.config) {
        constexpr std::string_view kSymbol = "CONFIG_NO_HZ_FULL";
        const SymbolValue v = lookup(*file.config, kSymbol);
        if (v.state == Symbol::malformed) {
            return malformed_symbol(file, v);
        }
        if (v.state == Symbol::yes) {
            return check_ok(v.line + ": the kernel can stop the tick on the nohz_full= CPUs",
                            {{file.path, v.line}});
        }
        return check_fail(not_set_text(file, "CONFIG_NO_HZ_FULL", v) +
                              ": the kernel ignores nohz_full= and ticks on every CPU",
                          {{file.path, evidence_value(kSymbol, v)}}, std::string(kBuildFix));
    }
    // Only CONFIG_NO_HZ_FULL kernels have the nohz_full attribute.
    if (const auto nohz = read_trimmed(*ctx.sys, kSysNohzFull)) {
        return check_ok(std::string(kSysNohzFull) +
                            " exists, which only kernels built with CONFIG_NO_HZ_FULL have (" +
                            file.missing + ")",
                        {{std::string(kSysNohzFull), *nohz}});
    }
    return check_fail(
        "the running kernel was built without CONFIG_NO_HZ_FULL: " + std::string(kSysNohzFull) +
            " is missing, so nohz_full= is ignored (" + file.missing + ")",
        {{std::string(kSysNohzFull), "(missing)"}}, std::string(kBuildFix));
}

// The first RCU callback-offload kthread, reading only /proc/<pid>/stat.
std::optional<std::pair<std::string, std::string>> find_rcuo_thread(const SystemRoot& sys) {
    for (const std::string& pid : sys.list("/proc")) {
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        const std::string path = "/proc/" + pid + "/stat";
        std::optional<std::string> text;
        try {
            text = sys.read(path);
        } catch (const core::Error&) {
            continue;  // gone while being read
        }
        if (!text) {
            continue;
        }
        try {
            const ProcStat stat = parse_proc_stat(*text);
            if (stat.kthread() && is_rcu_offload_thread(stat.comm)) {
                return std::make_pair(path, trim(*text));
            }
        } catch (const core::ParseError&) {
            continue;  // tasks.allowed names malformed stat files
        }
    }
    return std::nullopt;
}

CheckResult check_rcu_nocb_cpu(const CheckContext& ctx) {
    const ConfigFile file = read_config(ctx);
    if (file.config) {
        constexpr std::string_view kSymbol = "CONFIG_RCU_NOCB_CPU";
        const SymbolValue v = lookup(*file.config, kSymbol);
        if (v.state == Symbol::malformed) {
            return malformed_symbol(file, v);
        }
        if (v.state == Symbol::yes) {
            return check_ok(v.line +
                                ": RCU callbacks of rcu_nocbs= and nohz_full= CPUs can be "
                                "offloaded to rcuo kthreads",
                            {{file.path, v.line}});
        }
        return check_fail(not_set_text(file, "CONFIG_RCU_NOCB_CPU", v) +
                              ": rcu_nocbs= is ignored and every CPU runs its RCU callbacks in "
                              "softirq",
                          {{file.path, evidence_value(kSymbol, v)}}, std::string(kBuildFix));
    }
    if (const auto rcuo = find_rcuo_thread(*ctx.sys)) {
        return check_ok("RCU offload kthreads run (" + rcuo->second.substr(0, 40) +
                            "...), which only CONFIG_RCU_NOCB_CPU kernels start (" + file.missing +
                            ")",
                        {{rcuo->first, rcuo->second}});
    }
    return check_skip(file.missing +
                      ", and no rcuo kthread shows that RCU callback offloading "
                      "is built in");
}

CheckResult check_task_isolation(const CheckContext& ctx) {
    const ConfigFile file = read_config(ctx);
    const auto proc_file = read_trimmed(*ctx.sys, kPid1TaskIsolation);
    const bool pid1_seen = proc_file || ctx.sys->exists(kPid1Status);
    std::vector<Evidence> evidence;
    if (proc_file) {
        // The first line says enough: "state: off".
        evidence.push_back(
            {std::string(kPid1TaskIsolation), proc_file->substr(0, proc_file->find('\n'))});
    }
    const std::string fix =
        "build and boot the quietcore kernel (kernel/patches/linux-6.1 with "
        "CONFIG_TASK_ISOLATION=y, see kernel/README.md) to get prctl(PR_SET_TASK_ISOLATION) and "
        "STRICT mode";
    if (file.config) {
        constexpr std::string_view kSymbol = "CONFIG_TASK_ISOLATION";
        const SymbolValue v = lookup(*file.config, kSymbol);
        if (v.state == Symbol::malformed) {
            return malformed_symbol(file, v);
        }
        evidence.insert(evidence.begin(), {file.path, evidence_value(kSymbol, v)});
        if (v.state != Symbol::yes) {
            return check_warn(not_set_text(file, "CONFIG_TASK_ISOLATION", v) +
                                  ": the kernel lacks the quietcore task-isolation patch, so "
                                  "workers fall back to soft isolation (no STRICT signal, no "
                                  "kernel break records)",
                              std::move(evidence), fix);
        }
        if (!proc_file && pid1_seen) {
            evidence.push_back({std::string(kPid1TaskIsolation), "(missing)"});
            return check_warn(v.line + " in " + file.path + " but the running kernel has no " +
                                  std::string(kPid1TaskIsolation) +
                                  ": the config does not describe the running kernel",
                              std::move(evidence),
                              "boot the kernel " + file.path +
                                  " belongs to, or install the config of the running kernel");
        }
        return check_ok(v.line +
                            ": prctl(PR_SET_TASK_ISOLATION) and the kernel break records "
                            "are available",
                        std::move(evidence));
    }
    if (proc_file) {
        return check_ok(std::string(kPid1TaskIsolation) +
                            " exists: the running kernel has the quietcore task-isolation patch (" +
                            file.missing + ")",
                        std::move(evidence));
    }
    if (pid1_seen) {
        return check_warn("the running kernel lacks the quietcore task-isolation patch (no " +
                              std::string(kPid1TaskIsolation) + "; " + file.missing +
                              "): workers fall back to soft isolation",
                          {{std::string(kPid1TaskIsolation), "(missing)"}}, fix);
    }
    return check_skip(file.missing + ", and no /proc/1 to look for the task_isolation file");
}

}  // namespace

std::vector<CheckDef> kconfig_checks() {
    return {
        {"kconfig.no_hz_full", "the kernel is built with CONFIG_NO_HZ_FULL", check_no_hz_full},
        {"kconfig.rcu_nocb_cpu", "the kernel is built with CONFIG_RCU_NOCB_CPU",
         check_rcu_nocb_cpu},
        {"kconfig.task_isolation",
         "the kernel has the quietcore task-isolation patch (CONFIG_TASK_ISOLATION)",
         check_task_isolation},
    };
}

}  // namespace qc::monitor::boot
