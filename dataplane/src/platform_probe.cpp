#include "quietcore/dataplane/platform_probe.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "quietcore/core/text_file.hpp"
#include "quietcore/dataplane/eal_session.hpp"

namespace qc::dataplane {

std::uint64_t parse_hugepages_free(std::string_view text) {
    constexpr std::string_view kKey = "HugePages_Free:";
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t eol = std::min(text.find('\n', pos), text.size());
        std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.starts_with(kKey)) {
            continue;
        }
        line.remove_prefix(kKey.size());
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            line.remove_prefix(1);
        }
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
        return ec == std::errc{} ? value : 0;
    }
    return 0;
}

PlatformFacts probe_platform(const std::filesystem::path& root) {
    PlatformFacts facts;
    if (const auto meminfo = core::read_text_file_if_exists((root / "proc/meminfo").string())) {
        facts.hugepages_free = parse_hugepages_free(*meminfo);
    }
    for (const std::string_view driver : kDpdkPciDrivers) {
        const std::filesystem::path dir = root / "sys/bus/pci/drivers" / driver;
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
             it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (is_pci_address(name)) {
                facts.bound_nics.push_back(name);
            }
        }
    }
    std::sort(facts.bound_nics.begin(), facts.bound_nics.end());
    facts.bound_nics.erase(std::unique(facts.bound_nics.begin(), facts.bound_nics.end()),
                           facts.bound_nics.end());
    return facts;
}

}  // namespace qc::dataplane
