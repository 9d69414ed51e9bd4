#include "checks_tunables/tunables_common.hpp"

#include "checks_tunables/tunables_parse.hpp"

namespace qc::monitor::tunables {

MalformedFile::MalformedFile(std::string path, std::string token, std::string expected)
    : core::Error(path + ": unexpected \"" + token + "\" (expected " + expected + ")"),
      path_(std::move(path)),
      token_(std::move(token)),
      expected_(std::move(expected)) {}

std::optional<std::string> Probe::read(std::string_view path) {
    auto text = read_quiet(path);
    note(std::string(path), text ? *text : std::string(kMissing));
    return text;
}

std::optional<std::string> Probe::read_quiet(std::string_view path) const {
    const auto text = ctx_.sys->read(path);
    if (!text) {
        return std::nullopt;
    }
    return std::string(trim(*text));
}

std::optional<std::int64_t> Probe::read_integer(std::string_view path) {
    const auto text = read(path);
    if (!text) {
        return std::nullopt;
    }
    const auto value = parse_integer(*text);
    if (!value) {
        throw MalformedFile(std::string(path), *text, "an integer");
    }
    return value;
}

std::optional<std::int64_t> Probe::read_integer_quiet(std::string_view path) const {
    const auto text = read_quiet(path);
    if (!text) {
        return std::nullopt;
    }
    const auto value = parse_integer(*text);
    if (!value) {
        throw MalformedFile(std::string(path), *text, "an integer");
    }
    return value;
}

void Probe::note(std::string path, std::string value) {
    for (Evidence& e : evidence_) {
        if (e.path == path) {
            e.value = std::move(value);
            return;
        }
    }
    evidence_.push_back({std::move(path), std::move(value)});
}

CheckResult malformed_result(Probe& probe, const MalformedFile& e) {
    probe.note(e.path(), e.token());
    return check_fail(e.path() + " holds \"" + e.token() + "\" where the kernel writes " +
                          e.expected() + ": the file is damaged or not from a real system",
                      probe.evidence(),
                      "re-read it from the live system (`qc-monitor snapshot` again) and check "
                      "what rewrote " +
                          e.path());
}

std::optional<CheckResult> isolated_cpus_unknown(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return check_skip("no isolated CPUs given (--isolated) or configured by the kernel");
    }
    if ((ctx.isolated & ctx.online).empty()) {
        return check_skip("none of the isolated CPUs " + ctx.isolated.to_list() +
                          " is online (/sys/devices/system/cpu/online: " + ctx.online.to_list() +
                          ")");
    }
    return std::nullopt;
}

core::CpuSet checked_cpus(const CheckContext& ctx) {
    return ctx.isolated & ctx.online;
}

std::string cpus_phrase(const core::CpuSet& cpus) {
    return (cpus.count() == 1 ? "CPU " : "CPUs ") + cpus.to_list();
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty()) {
            out += separator;
        }
        out += part;
    }
    return out;
}

}  // namespace qc::monitor::tunables
