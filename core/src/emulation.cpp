#include "quietcore/core/emulation.hpp"

#include <optional>

#include "quietcore/core/text_file.hpp"

namespace qc::core {

std::string_view cpuinfo_architecture(std::string_view cpuinfo) {
    std::string_view arch;
    for_each_line(cpuinfo, [&](std::string_view line) {
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return true;
        }
        const std::string_view key = trim_space(line.substr(0, colon));
        if (key == "vendor_id" || key == "flags") {
            arch = "x86_64";
        } else if (key == "CPU implementer" || key == "Features") {
            arch = "aarch64";
        }
        return arch.empty();
    });
    return arch;
}

std::string_view compiled_architecture() noexcept {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
#error "quietcore supports x86_64 and aarch64 only"
#endif
}

std::string user_mode_emulation() {
    const std::optional<std::string> text = read_text_file_if_exists("/proc/cpuinfo");
    if (!text) {
        return {};
    }
    const std::string_view kernel_arch = cpuinfo_architecture(*text);
    if (kernel_arch.empty() || kernel_arch == compiled_architecture()) {
        return {};
    }
    return "user-mode emulation: " + std::string(compiled_architecture()) +
           " code, the kernel's /proc/cpuinfo describes " + std::string(kernel_arch);
}

}  // namespace qc::core
