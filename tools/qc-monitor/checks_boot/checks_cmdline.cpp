// cmdline.*: the isolation parameters of the kernel command line, each
// against the CPUs meant to be isolated, and what the kernel applied of
// them (/sys/devices/system/cpu/{isolated,nohz_full}).
#include <charconv>

#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"
#include "checks_boot/kernel_cmdline.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kCmdline = "/proc/cmdline";
constexpr std::string_view kSysIsolated = "/sys/devices/system/cpu/isolated";
constexpr std::string_view kSysNohzFull = "/sys/devices/system/cpu/nohz_full";
constexpr std::string_view kBootloaderHint =
    " the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and "
    "reboot)";

struct Cmdline {
    std::string text;
    KernelCmdline parsed;
};

std::optional<Cmdline> read_cmdline(const CheckContext& ctx) {
    auto text = read_trimmed(*ctx.sys, kCmdline);
    if (!text) {
        return std::nullopt;
    }
    Cmdline cmd;
    cmd.parsed = parse_kernel_cmdline(*text);
    cmd.text = std::move(*text);
    return cmd;
}

CheckResult skip_no_cmdline() {
    return check_skip(std::string(kCmdline) + " not found");
}

// Evidence: every occurrence of the parameter, or the whole line without one.
std::vector<Evidence> param_evidence(const Cmdline& cmd,
                                     const std::vector<const KernelParam*>& found) {
    std::vector<Evidence> evidence;
    for (const KernelParam* p : found) {
        evidence.push_back({std::string(kCmdline), p->text});
    }
    if (evidence.empty()) {
        evidence.push_back({std::string(kCmdline), cmd.text});
    }
    return evidence;
}

bool values_differ(const std::vector<const KernelParam*>& found) {
    for (const KernelParam* p : found) {
        if (p->value != found.front()->value) {
            return true;
        }
    }
    return false;
}

std::string add_fix(const std::string& params) {
    return "add " + params + " to" + std::string(kBootloaderHint);
}

std::string set_fix(const std::string& param) {
    return "set " + param + " on" + std::string(kBootloaderHint);
}

// What to suggest when no CPU is meant to be isolated: all but the first.
std::string example_isolated(const CheckContext& ctx) {
    core::CpuSet cpus = ctx.online;
    if (cpus.count() >= 2) {
        cpus.remove(static_cast<unsigned>(cpus.first()));
    }
    return cpus.empty() ? "<cpus>" : cpus.to_list();
}

std::string unconfigured_fix(const CheckContext& ctx) {
    const std::string cpus = example_isolated(ctx);
    return "choose the CPUs to isolate (e.g. " + cpus + ") and add isolcpus=domain,managed_irq," +
           cpus + " nohz_full=" + cpus + " rcu_nocbs=" + cpus + " to" +
           std::string(kBootloaderHint) + ", or pass --isolated to check against them";
}

constexpr std::string_view kUnconfigured =
    "isolation is not configured: the kernel isolates no CPU and no --isolated was given";

// A CPU list from a parameter's value; nullopt with a finding when it does
// not parse the way the kernel parses it.
// `label` names the parameter as written ("isolcpus=domain,2-x").
std::optional<core::CpuSet> param_cpus(const CheckContext& ctx, std::string_view label,
                                       std::string_view list, Findings& f,
                                       std::string_view consequence) {
    try {
        return core::CpuSet::parse_list(list, cpu_limit(ctx));
    } catch (const core::ParseError& e) {
        std::string reason = e.what();
        const std::size_t colon = reason.rfind(": ");
        reason = colon == std::string::npos ? "" : reason.substr(colon + 2);
        f.fail(std::string(label) + ": bad token \"" + e.token() + "\" (" + reason +
               "): " + std::string(consequence));
        return std::nullopt;
    }
}

// The first nohz_full= CPU list that parses; empty otherwise.
core::CpuSet nohz_full_list(const CheckContext& ctx, const KernelCmdline& cmd) {
    const auto found = cmd.all("nohz_full");
    if (found.empty() || !found.front()->value) {
        return {};
    }
    try {
        return core::CpuSet::parse_list(*found.front()->value, cpu_limit(ctx));
    } catch (const core::ParseError&) {
        return {};
    }
}

// The isolcpus= the kernel applies (the first), when valid.
struct AppliedIsolcpus {
    IsolcpusValue value;
    core::CpuSet cpus;
};

std::optional<AppliedIsolcpus> applied_isolcpus(const CheckContext& ctx, const KernelCmdline& cmd) {
    const auto found = cmd.all("isolcpus");
    if (found.empty() || !found.front()->value) {
        return std::nullopt;
    }
    AppliedIsolcpus out;
    out.value = parse_isolcpus(*found.front()->value);
    if (!out.value.invalid_flag.empty()) {
        return std::nullopt;
    }
    try {
        out.cpus = core::CpuSet::parse_list(out.value.cpus, cpu_limit(ctx));
    } catch (const core::ParseError&) {
        return std::nullopt;
    }
    return out;
}

// Compares a parameter's CPUs with the expectation: missing ones fail,
// extra ones warn.
void compare_with_isolated(const CheckContext& ctx, std::string_view what, const core::CpuSet& cpus,
                           Findings& f, std::string_view missing_effect,
                           std::string_view extra_effect) {
    const core::CpuSet missing = ctx.isolated - cpus;
    const core::CpuSet extra = cpus - ctx.isolated;
    if (!missing.empty()) {
        f.fail(std::string(what) + " leaves out " + missing.to_list() + " of the isolated " +
               cpus_named(ctx.isolated) + ": " + std::string(missing_effect));
    }
    if (!extra.empty()) {
        f.warn(std::string(what) + " also covers " + extra.to_list() +
               ", which are not among the isolated " + cpus_named(ctx.isolated) + " (" +
               ctx.isolated_source + "): " + std::string(extra_effect));
    }
}

CheckResult check_isolcpus(const CheckContext& ctx) {
    const auto cmd = read_cmdline(ctx);
    if (!cmd) {
        return skip_no_cmdline();
    }
    const auto found = cmd->parsed.all("isolcpus");
    auto evidence = param_evidence(*cmd, found);
    if (found.empty()) {
        if (!ctx.isolated_known) {
            return check_fail(
                "no isolcpus= on the kernel command line; " + std::string(kUnconfigured),
                std::move(evidence), unconfigured_fix(ctx));
        }
        return check_fail(
            "no isolcpus= on the kernel command line: the isolated " + cpus_named(ctx.isolated) +
                " stay in the scheduler's load balancing and take managed IRQs",
            std::move(evidence), add_fix("isolcpus=domain,managed_irq," + ctx.isolated.to_list()));
    }
    const KernelParam& p = *found.front();
    Findings f;
    IsolcpusValue value;
    std::optional<core::CpuSet> cpus;
    if (!p.value) {
        f.fail("isolcpus without a value isolates nothing");
    } else {
        value = parse_isolcpus(*p.value);
        if (!value.invalid_flag.empty()) {
            f.fail("isolcpus= flag \"" + value.invalid_flag +
                   "\" holds characters other than letters and '_', so the kernel ignores the "
                   "whole parameter (\"isolcpus: Invalid flag\")");
        } else {
            cpus = param_cpus(ctx, p.text, value.cpus, f,
                              "the kernel rejects the list and isolates nothing");
        }
    }
    if (cpus && cpus->empty()) {
        f.fail("isolcpus= has no CPU list after its flags, so nothing is isolated");
    } else if (cpus && !ctx.isolated_known) {
        f.warn(p.text +
               " is on the command line but the kernel applied no isolated CPUs and no "
               "--isolated was given: nothing to compare it with");
    } else if (cpus) {
        compare_with_isolated(ctx, "isolcpus=", *cpus, f, "the scheduler balances load onto them",
                              "they lose scheduler load balancing");
    }
    if (p.value && value.invalid_flag.empty()) {
        if (!value.domain_effective()) {
            f.warn(
                "isolcpus= has no domain flag: the scheduler still balances load onto the "
                "isolated CPUs");
        }
        if (!value.managed_irq) {
            f.warn(
                "isolcpus= has no managed_irq flag: the kernel may place managed IRQs (NVMe, "
                "virtio and multi-queue NIC queues) on isolated CPUs");
        }
        for (const std::string& flag : value.unknown_flags) {
            f.warn("isolcpus= flag \"" + flag + "\" is unknown and skipped by the kernel");
        }
    }
    if (found.size() > 1 && values_differ(found)) {
        f.warn("isolcpus= appears " + std::to_string(found.size()) +
               " times with different values: the kernel applies the first and rejects a later "
               "one that disagrees with it");
    }
    std::string flags = value.nohz ? "nohz,domain,managed_irq," : "domain,managed_irq,";
    const std::string want = ctx.isolated_known ? ctx.isolated.to_list() : example_isolated(ctx);
    return f.result(p.text + " removes " + (cpus ? cpus->to_list() : "") +
                        " from the scheduler domains and from managed IRQ placement",
                    std::move(evidence),
                    found.size() > 1 ? "keep a single isolcpus=" + flags + want + " on" +
                                           std::string(kBootloaderHint)
                                     : set_fix("isolcpus=" + flags + want));
}

CheckResult check_nohz_full(const CheckContext& ctx) {
    const auto cmd = read_cmdline(ctx);
    if (!cmd) {
        return skip_no_cmdline();
    }
    const auto found = cmd->parsed.all("nohz_full");
    auto evidence = param_evidence(*cmd, found);
    const std::string want = ctx.isolated_known ? ctx.isolated.to_list() : example_isolated(ctx);
    if (found.empty()) {
        const auto isol = applied_isolcpus(ctx, cmd->parsed);
        if (isol && isol->value.nohz && ctx.isolated_known &&
            ctx.isolated.is_subset_of(isol->cpus)) {
            return check_warn(
                "no nohz_full= on the kernel command line: isolcpus=nohz stops the tick on " +
                    isol->cpus.to_list() +
                    " but leaves unbound timers, workqueues, RCU callbacks and kthreads free to "
                    "use those CPUs",
                std::move(evidence), add_fix("nohz_full=" + want));
        }
        if (!ctx.isolated_known) {
            return check_fail(
                "no nohz_full= on the kernel command line: the scheduler tick runs "
                "on every CPU; " +
                    std::string(kUnconfigured),
                std::move(evidence), unconfigured_fix(ctx));
        }
        return check_fail(
            "no nohz_full= on the kernel command line: the scheduler tick keeps "
            "interrupting the isolated " +
                cpus_named(ctx.isolated),
            std::move(evidence), add_fix("nohz_full=" + want));
    }
    const KernelParam& p = *found.front();
    Findings f;
    std::optional<core::CpuSet> cpus;
    if (!p.value) {
        f.fail("nohz_full without a value stops the tick nowhere");
    } else {
        cpus = param_cpus(ctx, p.text, *p.value, f,
                          "the kernel rejects the list and keeps the tick everywhere");
    }
    if (cpus && cpus->empty()) {
        f.fail("nohz_full= is empty: the tick runs on every CPU");
    } else if (cpus && !ctx.isolated_known) {
        f.warn(p.text +
               " is on the command line but the kernel applied no tick-free CPUs (see "
               "kconfig.no_hz_full) and no --isolated was given: nothing to compare it "
               "with");
    } else if (cpus) {
        compare_with_isolated(ctx, "nohz_full=", *cpus, f,
                              "the scheduler tick keeps interrupting them",
                              "housekeeping CPUs lose their tick and timer duties");
    }
    if (found.size() > 1 && values_differ(found)) {
        f.warn("nohz_full= appears " + std::to_string(found.size()) +
               " times with different values: the kernel applies the first and rejects a later "
               "one that disagrees with it");
    }
    return f.result(p.text + " stops the tick on " + (cpus ? cpus->to_list() : "") +
                        " and keeps unbound timers, workqueues, RCU callbacks and kthreads off "
                        "them",
                    std::move(evidence),
                    found.size() > 1
                        ? "keep a single nohz_full=" + want + " on" + std::string(kBootloaderHint)
                        : set_fix("nohz_full=" + want));
}

CheckResult check_rcu_nocbs(const CheckContext& ctx) {
    const auto cmd = read_cmdline(ctx);
    if (!cmd) {
        return skip_no_cmdline();
    }
    const auto found = cmd->parsed.all("rcu_nocbs");
    auto evidence = param_evidence(*cmd, found);
    const core::CpuSet nohz = nohz_full_list(ctx, cmd->parsed);
    const std::string want = ctx.isolated_known ? ctx.isolated.to_list() : example_isolated(ctx);
    if (found.empty()) {
        if (!ctx.isolated_known) {
            return check_fail(
                "no rcu_nocbs= on the kernel command line: RCU callbacks run in "
                "softirq on every CPU; " +
                    std::string(kUnconfigured),
                std::move(evidence), unconfigured_fix(ctx));
        }
        if (ctx.isolated.is_subset_of(nohz)) {
            for (const KernelParam* p : cmd->parsed.all("nohz_full")) {
                evidence.push_back({std::string(kCmdline), p->text});
            }
            return check_ok("no rcu_nocbs=, but nohz_full=" + nohz.to_list() +
                                " offloads the RCU callbacks of the same CPUs (nohz_full implies "
                                "rcu_nocbs)",
                            std::move(evidence));
        }
        return check_fail(
            "no rcu_nocbs= on the kernel command line and nohz_full= does not "
            "cover " +
                (ctx.isolated - nohz).to_list() +
                ": their RCU callbacks run in softirq on those CPUs",
            std::move(evidence), add_fix("rcu_nocbs=" + want));
    }
    // The kernel re-reads the mask for each occurrence: the last one counts.
    const KernelParam& p = *found.back();
    Findings f;
    core::CpuSet cpus;
    bool parsed = true;
    if (p.value) {
        const auto list = param_cpus(ctx, p.text, *p.value, f,
                                     "the kernel offloads every CPU instead (\"rcu_nocbs= bad "
                                     "CPU range, all CPUs set\")");
        parsed = list.has_value();
        cpus = list.value_or(core::CpuSet{});
    }
    if (parsed && !ctx.isolated_known) {
        f.warn(p.text +
               " is on the command line but no isolated CPUs are known (none applied by "
               "the kernel, no --isolated): nothing to compare it with");
    } else if (parsed) {
        const core::CpuSet missing = ctx.isolated - cpus;
        const std::string what = p.value ? p.text : "rcu_nocbs without a list";
        if (!missing.empty() && missing.is_subset_of(nohz)) {
            f.warn(what + " leaves out " + missing.to_list() +
                   " of the isolated CPUs, whose callbacks only nohz_full= offloads");
        } else if (!missing.empty()) {
            f.fail(what + " leaves out " + missing.to_list() + " of the isolated " +
                   cpus_named(ctx.isolated) + ": their RCU callbacks run in softirq on those CPUs");
        }
    }
    if (found.size() > 1 && values_differ(found)) {
        f.warn("rcu_nocbs= appears " + std::to_string(found.size()) +
               " times with different values: the kernel uses the last");
    }
    return f.result(
        p.text + " offloads the RCU callbacks of " + cpus.to_list() + " to rcuo kthreads",
        std::move(evidence),
        found.size() > 1 ? "keep a single rcu_nocbs=" + want + " on" + std::string(kBootloaderHint)
                         : set_fix("rcu_nocbs=" + want));
}

CheckResult check_irqaffinity(const CheckContext& ctx) {
    const auto cmd = read_cmdline(ctx);
    if (!cmd) {
        return skip_no_cmdline();
    }
    const auto found = cmd->parsed.all("irqaffinity");
    auto evidence = param_evidence(*cmd, found);
    const std::string want =
        ctx.housekeeping.empty() ? "<housekeeping cpus>" : ctx.housekeeping.to_list();
    if (found.empty()) {
        if (!ctx.isolated_known) {
            return check_warn(
                "no irqaffinity= on the kernel command line: IRQs may use every "
                "CPU; " +
                    std::string(kUnconfigured),
                std::move(evidence), unconfigured_fix(ctx));
        }
        return check_warn(
            "no irqaffinity= on the kernel command line: IRQs set up at boot may "
            "use every CPU, the isolated " +
                ctx.isolated.to_list() + " included",
            std::move(evidence), add_fix("irqaffinity=" + want));
    }
    const KernelParam& p = *found.back();  // each occurrence overwrites the mask
    Findings f;
    std::optional<core::CpuSet> cpus;
    if (!p.value) {
        f.fail("irqaffinity without a value is ignored by the kernel");
    } else {
        cpus = param_cpus(ctx, p.text, *p.value, f,
                          "the kernel keeps the default affinity of every CPU");
    }
    if (cpus && cpus->empty()) {
        f.warn("irqaffinity= is empty: the kernel falls back to the boot CPU alone");
    } else if (cpus && !ctx.isolated_known) {
        f.warn(p.text +
               " is on the command line but no isolated CPUs are known (none applied by "
               "the kernel, no --isolated): nothing to compare it with");
    } else if (cpus && cpus->intersects(ctx.isolated)) {
        f.fail(p.text + " includes the isolated " + cpus_named((*cpus & ctx.isolated)) +
               ": new IRQs may be routed to them");
    }
    if (found.size() > 1 && values_differ(found)) {
        f.warn("irqaffinity= appears " + std::to_string(found.size()) +
               " times with different values: the kernel uses the last");
    }
    return f.result(p.text + " keeps the default IRQ affinity on housekeeping CPUs",
                    std::move(evidence), set_fix("irqaffinity=" + want));
}

// get_option(): an optional sign, then a number in C notation; 0 when none.
long option_number(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    int base = 10;
    if (text.size() > 1 && text.front() == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    } else if (text.size() > 1 && text.front() == '0') {
        base = 8;
    }
    long value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value, base);
    return negative ? -value : value;
}

CheckResult check_skew_tick(const CheckContext& ctx) {
    const auto cmd = read_cmdline(ctx);
    if (!cmd) {
        return skip_no_cmdline();
    }
    const auto found = cmd->parsed.all("skew_tick");
    auto evidence = param_evidence(*cmd, found);
    if (found.empty()) {
        return check_warn(
            "no skew_tick=1 on the kernel command line: the ticks of all CPUs fire "
            "at the same instant and contend on the timekeeping and RCU locks",
            std::move(evidence), add_fix("skew_tick=1"));
    }
    const KernelParam& p = *found.back();  // an early_param: each occurrence overwrites
    if (!p.value || option_number(*p.value) == 0) {
        return check_warn(p.text +
                              " leaves the tick unskewed (the kernel reads it as 0): all "
                              "CPUs' ticks fire at the same instant",
                          std::move(evidence), set_fix("skew_tick=1"));
    }
    return check_ok(p.text + " offsets each CPU's tick so they do not fire together",
                    std::move(evidence));
}

// What the kernel applied, against what the command line asks for.
CheckResult check_consistency(const CheckContext& ctx) {
    return guarded([&]() -> CheckResult {
        const auto cmd = read_cmdline(ctx);
        if (!cmd) {
            return skip_no_cmdline();
        }
        const auto isol_found = cmd->parsed.all("isolcpus");
        const auto nohz_found = cmd->parsed.all("nohz_full");
        const auto sys_isolated_text = read_trimmed(*ctx.sys, kSysIsolated);
        const auto sys_nohz_text = read_trimmed(*ctx.sys, kSysNohzFull);
        const unsigned limit = cpu_limit(ctx);
        std::optional<core::CpuSet> sys_isolated;
        std::optional<core::CpuSet> sys_nohz;
        if (sys_isolated_text) {
            sys_isolated = parse_list_in(kSysIsolated, *sys_isolated_text);
        }
        if (sys_nohz_text) {
            sys_nohz = *sys_nohz_text == "(null)" ? core::CpuSet{}
                                                  : parse_list_in(kSysNohzFull, *sys_nohz_text);
        }
        std::vector<Evidence> evidence;
        for (const KernelParam* p : isol_found) {
            evidence.push_back({std::string(kCmdline), p->text});
        }
        for (const KernelParam* p : nohz_found) {
            evidence.push_back({std::string(kCmdline), p->text});
        }
        if (sys_isolated_text) {
            evidence.push_back({std::string(kSysIsolated), *sys_isolated_text});
        }
        if (sys_nohz_text) {
            evidence.push_back({std::string(kSysNohzFull), *sys_nohz_text});
        }
        if (isol_found.empty() && nohz_found.empty()) {
            const bool applied =
                (sys_isolated && !sys_isolated->empty()) || (sys_nohz && !sys_nohz->empty());
            if (!applied) {
                return check_skip(
                    "no isolcpus= or nohz_full= on the kernel command line and no isolated "
                    "CPUs applied by the kernel: nothing to compare");
            }
        }
        // What the kernel should show for the command line.
        const auto isol = applied_isolcpus(ctx, cmd->parsed);
        core::CpuSet possible;
        for (unsigned cpu = 0; cpu < limit; ++cpu) {
            possible.add(cpu);
        }
        const core::CpuSet want_isolated =
            isol && isol->value.domain_effective() ? isol->cpus & possible : core::CpuSet{};
        core::CpuSet want_nohz;
        if (!nohz_found.empty()) {
            want_nohz = nohz_full_list(ctx, cmd->parsed);
        } else if (isol && isol->value.nohz) {
            want_nohz = isol->cpus;
        }
        Findings f;
        if (sys_isolated && !(*sys_isolated == want_isolated)) {
            f.fail("the kernel keeps " + cpus_text(*sys_isolated) +
                   " out of the scheduler domains (" + std::string(kSysIsolated) +
                   ") but the command line asks for " + cpus_text(want_isolated));
        }
        if (sys_nohz && !(*sys_nohz == want_nohz)) {
            f.fail("the kernel runs tick-free on " + cpus_text(*sys_nohz) + " (" +
                   std::string(kSysNohzFull) + ") but the command line asks for " +
                   cpus_text(want_nohz));
        }
        std::string ok =
            "the kernel applied the command line: scheduler-isolated " + cpus_text(want_isolated);
        ok += sys_nohz ? ", tick-free " + cpus_text(want_nohz)
                       : " (no " + std::string(kSysNohzFull) + ": see kconfig.no_hz_full)";
        return f.result(
            ok, std::move(evidence),
            "the kernel rejected or trimmed a parameter: read dmesg for \"Housekeeping:\", "
            "\"NO_HZ:\" and \"isolcpus:\" (nohz_full= must match isolcpus=nohz, the boot CPU "
            "cannot be tick-free, a CPU past the last possible one voids the list), then fix the "
            "command line and reboot");
    });
}

}  // namespace

std::vector<CheckDef> cmdline_checks() {
    return {
        {"cmdline.isolcpus", "isolcpus= isolates the isolated CPUs (domain, managed_irq)",
         check_isolcpus},
        {"cmdline.nohz_full", "nohz_full= covers the isolated CPUs", check_nohz_full},
        {"cmdline.rcu_nocbs", "RCU callbacks of the isolated CPUs are offloaded (rcu_nocbs=)",
         check_rcu_nocbs},
        {"cmdline.irqaffinity", "irqaffinity= keeps the default IRQ affinity on housekeeping CPUs",
         check_irqaffinity},
        {"cmdline.skew_tick", "skew_tick=1 spreads the CPUs' ticks", check_skew_tick},
        {"cmdline.consistency",
         "the kernel applied isolcpus= and nohz_full= as the command line asks", check_consistency},
    };
}

}  // namespace qc::monitor::boot
