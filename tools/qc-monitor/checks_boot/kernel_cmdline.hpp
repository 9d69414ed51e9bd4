// The kernel command line as the kernel itself splits it (next_arg() and
// parse_args() of Linux 6.1), and the value of isolcpus= as
// housekeeping_isolcpus_setup() reads it. Pure: tested on captured text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qc::monitor::boot {

struct KernelParam {
    std::string name;                  // quotes removed: "isolcpus"
    std::optional<std::string> value;  // after the first '=', quotes removed; nullopt: bare word
    std::string text;                  // as written: "isolcpus=domain,2-3"
};

struct KernelCmdline {
    // The kernel's parameters, in order (BOOT_IMAGE= and root= included).
    std::vector<KernelParam> params;
    // Words after "--": the kernel hands them to init.
    std::vector<std::string> init_args;

    // Every occurrence of `name`, in order; '-' and '_' match each other as
    // in the kernel's parameq().
    std::vector<const KernelParam*> all(std::string_view name) const;
    bool has(std::string_view name) const { return !all(name).empty(); }
};

// True when the names are equal with '-' and '_' taken as the same character.
bool param_name_equal(std::string_view a, std::string_view b) noexcept;

// Splits /proc/cmdline text: whitespace separates parameters unless inside
// double quotes; `name="a b"` and `"name=a b"` lose their quotes; "--" ends
// the kernel's part. Never throws: the kernel accepts any text.
KernelCmdline parse_kernel_cmdline(std::string_view text);

// The value of isolcpus=: optional flags, then a CPU list.
struct IsolcpusValue {
    bool nohz = false;
    bool domain = false;
    bool managed_irq = false;
    // Flags of letters and '_' the kernel does not know: skipped ("isolcpus:
    // Skipped unknown flag").
    std::vector<std::string> unknown_flags;
    // A flag with another character: the kernel ignores the whole parameter
    // ("isolcpus: Invalid flag"). Empty when there is none.
    std::string invalid_flag;
    // The CPU list after the flags, not yet parsed ("2-3,6-7").
    std::string cpus;

    // Without any known flag the kernel isolates from the scheduler domains.
    bool domain_effective() const noexcept { return domain || (!nohz && !managed_irq); }
    // The known flags in the kernel's spelling: "nohz,domain,managed_irq".
    std::string flags_text() const;
};

// Follows the kernel's flag loop: "nohz,", "domain," and "managed_irq," are
// recognised only with their comma, so "isolcpus=domain" (no list) is an
// unknown flag "domain" and an empty CPU list.
IsolcpusValue parse_isolcpus(std::string_view value);

}  // namespace qc::monitor::boot
