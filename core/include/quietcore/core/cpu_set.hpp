// A set of CPU numbers, and the two text forms the kernel uses for it:
// the cpulist syntax ("0-3,8,10-11", "0-15:2/4") of isolcpus=, nohz_full=,
// /sys/devices/system/cpu/*, and the comma-grouped hex masks of
// /proc/irq/*/smp_affinity ("ff,00000001").
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace qc::core {

class CpuSet {
  public:
    // The kernel's largest NR_CPUS; a CPU number at or above the limit given
    // to the parsers (this by default) is rejected.
    static constexpr unsigned kMaxCpus = 8192;

    CpuSet() = default;
    CpuSet(std::initializer_list<unsigned> cpus);

    // Throws ParseError naming the bad token. Accepts what the kernel's
    // bitmap_parselist() accepts: "", "N", "A-B", "A-B:used/group", comma
    // separated, surrounding whitespace and a trailing newline tolerated.
    static CpuSet parse_list(std::string_view text, unsigned limit = kMaxCpus);
    // Hex mask, 32-bit groups separated by commas, most significant first,
    // optional "0x" prefix, trailing newline tolerated. Throws ParseError.
    static CpuSet parse_mask(std::string_view text, unsigned limit = kMaxCpus);

    // Canonical cpulist, ranges collapsed: "0-3,8,10-11"; "" when empty.
    std::string to_list() const;
    // Kernel-style mask: 8 hex digits per 32-bit group, comma separated,
    // at least one group, e.g. "00000000,00000101".
    std::string to_mask() const;

    void add(unsigned cpu);
    void remove(unsigned cpu);
    bool contains(unsigned cpu) const noexcept;
    bool empty() const noexcept;
    std::size_t count() const noexcept;
    // Lowest CPU, or -1 when empty.
    int first() const noexcept;
    // One past the highest CPU in the set (0 when empty).
    unsigned end() const noexcept;
    std::vector<unsigned> cpus() const;

    CpuSet operator|(const CpuSet& o) const;
    CpuSet operator&(const CpuSet& o) const;
    CpuSet operator-(const CpuSet& o) const;  // set difference
    bool operator==(const CpuSet& o) const noexcept;
    bool is_subset_of(const CpuSet& o) const noexcept;
    bool intersects(const CpuSet& o) const noexcept;

  private:
    std::vector<std::uint64_t> words_;  // bit i of word w is CPU 64*w+i; no trailing zero words
    void trim();
};

}  // namespace qc::core
