// irq.*: no IRQ is delivered to an isolated CPU, and new IRQs start on
// housekeeping CPUs (/proc/irq/default_smp_affinity).
#include <algorithm>
#include <charconv>

#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kIrqDir = "/proc/irq";
constexpr std::string_view kDefaultAffinity = "/proc/irq/default_smp_affinity";
constexpr std::size_t kMaxEvidence = 10;

// Entries of /proc/irq/<n>/ that are not handler directories.
constexpr std::string_view kIrqFiles[] = {
    "affinity_hint", "effective_affinity", "effective_affinity_list",
    "node",          "smp_affinity",       "smp_affinity_list",
    "spurious"};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// /proc/interrupts, parsed; nullopt when missing or unreadable (the rates
// checks judge that file).
std::optional<isolation::InterruptTable> read_interrupts(const SystemRoot& sys) {
    try {
        const auto text = sys.read("/proc/interrupts");
        if (!text) {
            return std::nullopt;
        }
        return isolation::parse_interrupts(*text);
    } catch (const core::Error&) {
        return std::nullopt;
    }
}

// The handler name of an IRQ row: the words after the trigger
// ("IO-APIC 4-edge ttyS0", "PCI-MSIX-0000:00:01.0 0-edge virtio0-config").
std::string handler_name(const isolation::InterruptRow& row) {
    std::vector<std::string> words;
    std::size_t pos = 0;
    const std::string& d = row.description;
    while (pos < d.size()) {
        const std::size_t end = std::min(d.find(' ', pos), d.size());
        if (end > pos) {
            words.push_back(d.substr(pos, end - pos));
        }
        pos = end + 1;
    }
    std::size_t first = words.size();
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (ends_with(words[i], "-edge") || ends_with(words[i], "-level") ||
            ends_with(words[i], "-fasteoi")) {
            first = i + 1;
        }
    }
    if (first >= words.size()) {
        first = words.empty() ? 0 : words.size() - 1;
    }
    return join(
        std::vector<std::string>(words.begin() + static_cast<std::ptrdiff_t>(first), words.end()),
        " ");
}

const isolation::InterruptRow* find_row(const std::optional<isolation::InterruptTable>& table,
                                        std::string_view irq) {
    if (!table) {
        return nullptr;
    }
    for (const isolation::InterruptRow& row : table->rows) {
        if (row.name == irq) {
            return &row;
        }
    }
    return nullptr;
}

// Interrupts counted on `cpus` for the row; nullopt without the row or a column.
std::optional<std::uint64_t> count_on(const isolation::InterruptTable& table,
                                      const isolation::InterruptRow& row,
                                      const core::CpuSet& cpus) {
    std::uint64_t total = 0;
    for (const unsigned cpu : cpus.cpus()) {
        const auto column = table.column_of(cpu);
        if (!column || *column >= row.counts.size()) {
            return std::nullopt;
        }
        total += row.counts[*column];
    }
    return total;
}

// Handler directory names of /proc/irq/<n>, when /proc/interrupts had none.
std::string handler_dirs(const SystemRoot& sys, const std::string& dir) {
    std::vector<std::string> handlers;
    for (const std::string& entry : sys.list(dir)) {
        if (std::find(std::begin(kIrqFiles), std::end(kIrqFiles), entry) == std::end(kIrqFiles)) {
            handlers.push_back(entry);
        }
    }
    return join(handlers, ",");
}

unsigned irq_number(const std::string& s) {
    unsigned n = 0;
    std::from_chars(s.data(), s.data() + s.size(), n);
    return n;
}

struct IrqFinding {
    std::string irq;
    std::string label;  // "25 (virtio0-input.0) on 2"
    std::string path;
    std::string value;
};

std::string irq_label(const std::string& irq, const std::string& name, const std::string& cpus) {
    return irq + (name.empty() ? "" : " (" + name + ")") + " on " + cpus;
}

CheckResult check_irq_affinity(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        std::vector<std::string> irqs;
        for (const std::string& entry : ctx.sys->list(kIrqDir)) {
            if (!entry.empty() && entry.find_first_not_of("0123456789") == std::string::npos) {
                irqs.push_back(entry);
            }
        }
        std::sort(irqs.begin(), irqs.end(), [](const std::string& a, const std::string& b) {
            return irq_number(a) < irq_number(b);
        });
        if (irqs.empty()) {
            return check_skip("no IRQ directories under /proc/irq");
        }
        const auto table = read_interrupts(*ctx.sys);
        const auto name_of = [&](const std::string& irq, const std::string& dir) {
            if (const auto* row = find_row(table, irq)) {
                return handler_name(*row);
            }
            return handler_dirs(*ctx.sys, dir);
        };
        // Movable: the IRQ may use housekeeping CPUs but is delivered to an
        // isolated one. Bound: its whole mask is isolated CPUs, like a
        // device queue's managed IRQ, which fires only for I/O submitted on
        // those CPUs; quiet while it has not fired there.
        std::vector<IrqFinding> movable;
        std::vector<IrqFinding> bound_busy;
        std::vector<std::string> bound_quiet;
        core::CpuSet used;
        std::size_t checked = 0;
        for (const std::string& irq : irqs) {
            const std::string dir = std::string(kIrqDir) + "/" + irq;
            // Where the IRQ is delivered now; an empty effective affinity is an
            // IRQ that is not active. Without the file (some architectures),
            // where it may be delivered.
            const std::string effective_path = dir + "/effective_affinity_list";
            const std::string mask_path = dir + "/smp_affinity_list";
            const auto effective = read_trimmed(*ctx.sys, effective_path);
            if (effective && effective->empty()) {
                continue;
            }
            const auto mask = read_trimmed(*ctx.sys, mask_path);
            if (!effective && !mask) {
                continue;
            }
            const core::CpuSet target = effective ? parse_list_in(effective_path, *effective)
                                                  : parse_list_in(mask_path, *mask);
            const core::CpuSet allowed = mask ? parse_list_in(mask_path, *mask) : target;
            ++checked;
            if (!target.intersects(ctx.isolated)) {
                used = used | target;
                continue;
            }
            const std::string path = effective ? effective_path : mask_path;
            const std::string value = effective ? *effective : *mask;
            const std::string name = name_of(irq, dir);
            if (!allowed.is_subset_of(ctx.isolated)) {
                movable.push_back({irq, irq_label(irq, name, value), path, value});
                continue;
            }
            // Without a row (no handler) or a readable /proc/interrupts there
            // is nothing to count; the rates checks judge that file.
            const auto* row = find_row(table, irq);
            const auto fired = row ? count_on(*table, *row, ctx.isolated) : std::nullopt;
            if (!fired || *fired == 0) {
                bound_quiet.push_back(irq_label(irq, name, allowed.to_list()));
                continue;
            }
            IrqFinding finding{irq, irq_label(irq, name, allowed.to_list()), mask_path,
                               allowed.to_list()};
            finding.label += ", " + std::to_string(*fired) + " interrupts there";
            bound_busy.push_back(std::move(finding));
        }
        const std::string hk = ctx.housekeeping.to_list();
        const std::string quiet_note =
            bound_quiet.empty()
                ? std::string()
                : "; bound to isolated CPUs only and not counted there: " +
                      counted(bound_quiet.size(), "IRQ", "IRQs", bound_quiet) +
                      " (device queues fire only for I/O submitted from their CPUs)";
        if (movable.empty() && bound_busy.empty()) {
            return check_ok("the " + std::to_string(checked - bound_quiet.size()) +
                                " active IRQs that may use housekeeping CPUs are delivered to " +
                                cpus_text(used) + ", none to the isolated " +
                                ctx.isolated.to_list() + quiet_note,
                            {{std::string(kIrqDir),
                              std::to_string(checked) + " active IRQs, effective affinity " +
                                  cpus_text(used) + " besides the bound ones"}});
        }
        Findings f;
        std::vector<Evidence> evidence;
        std::vector<std::string> labels;
        std::vector<std::string> numbers;
        for (const IrqFinding& o : movable) {
            labels.push_back(o.label);
            numbers.push_back(o.irq);
            if (evidence.size() < kMaxEvidence) {
                evidence.push_back({o.path, o.value});
            }
        }
        if (!movable.empty()) {
            f.fail("delivered to isolated CPUs although their affinity allows housekeeping CPUs: " +
                   counted(movable.size(), "IRQ", "IRQs", labels));
        }
        labels.clear();
        for (const IrqFinding& o : bound_busy) {
            labels.push_back(o.label);
            numbers.push_back(o.irq);
            if (evidence.size() < kMaxEvidence) {
                evidence.push_back({o.path, o.value});
            }
        }
        if (!bound_busy.empty()) {
            f.warn(
                "bound to isolated CPUs only and firing there (a device queue used by a task "
                "on those CPUs, or an IRQ pinned there by hand): " +
                counted(bound_busy.size(), "IRQ", "IRQs", labels));
        }
        return f.result(
            "", std::move(evidence),
            "for i in " + join(numbers, " ") + "; do echo " + hk +
                " > /proc/irq/$i/smp_affinity_list; done, and ban the isolated CPUs in irqbalance "
                "(IRQBALANCE_BANNED_CPULIST=" +
                ctx.isolated.to_list() +
                " in /etc/default/irqbalance); managed device-queue IRQs refuse the write: keep "
                "I/O off the isolated CPUs and boot with isolcpus=managed_irq");
    });
}

CheckResult check_default_affinity(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        const auto text = read_trimmed(*ctx.sys, kDefaultAffinity);
        if (!text) {
            return check_skip(std::string(kDefaultAffinity) + " not found");
        }
        const core::CpuSet cpus = parse_mask_in(kDefaultAffinity, *text);
        std::vector<Evidence> evidence{{std::string(kDefaultAffinity), *text}};
        const core::CpuSet on_isolated = cpus & ctx.isolated;
        if (!on_isolated.empty()) {
            return check_fail("the default IRQ affinity " + *text + " (" + cpus_named(cpus) +
                                  ") includes the isolated " + cpus_named(on_isolated) +
                                  ": IRQs set up from now on may be delivered there",
                              std::move(evidence),
                              "echo " + ctx.housekeeping.to_mask() + " > " +
                                  std::string(kDefaultAffinity) + " and add irqaffinity=" +
                                  ctx.housekeeping.to_list() + " to the kernel command line");
        }
        return check_ok("the default IRQ affinity " + *text + " (" + cpus_named(cpus) +
                            ") keeps new IRQs off the isolated CPUs",
                        std::move(evidence));
    });
}

}  // namespace

std::vector<CheckDef> irq_checks() {
    return {
        {"irq.affinity", "no IRQ is delivered to an isolated CPU", check_irq_affinity},
        {"irq.default_affinity", "new IRQs start on housekeeping CPUs (default_smp_affinity)",
         check_default_affinity},
    };
}

}  // namespace qc::monitor::boot
