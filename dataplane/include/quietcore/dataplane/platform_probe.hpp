// What the machine offers DPDK (DESIGN.md "Data plane": the embedded default
// is `--no-huge --in-memory` and virtual devices when there are no hugepages
// and no bound NIC). Reads files only, under an injectable root directory so
// tests feed a fake tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace qc::dataplane {

// The PCI drivers a DPDK PMD can use a device through.
inline constexpr std::string_view kDpdkPciDrivers[] = {"vfio-pci", "uio_pci_generic", "igb_uio"};

struct PlatformFacts {
    std::uint64_t hugepages_free = 0;  // HugePages_Free of /proc/meminfo (default size)
    // PCI addresses bound to one of kDpdkPciDrivers, sorted, as "driver:address"
    // would be ambiguous: the address only ("0000:01:00.0").
    std::vector<std::string> bound_nics;

    bool has_hugepages() const noexcept { return hugepages_free > 0; }
    bool has_bound_nic() const noexcept { return !bound_nics.empty(); }
};

// HugePages_Free from the text of /proc/meminfo; 0 when the line is absent or
// malformed.
std::uint64_t parse_hugepages_free(std::string_view meminfo_text);

// Reads <root>/proc/meminfo and <root>/sys/bus/pci/drivers/<driver>/ for each
// of kDpdkPciDrivers (entries named like PCI addresses). Missing files and
// directories mean "none"; never throws for them.
PlatformFacts probe_platform(const std::filesystem::path& root = "/");

}  // namespace qc::dataplane
