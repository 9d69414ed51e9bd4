// What every tunable and rate check shares: reading files through the
// context's SystemRoot while collecting the evidence, turning a malformed
// file into a fail that names it, and the isolated CPUs a per-CPU check
// looks at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_context.hpp"
#include "check/check_result.hpp"
#include "quietcore/core/error.hpp"

namespace qc::monitor::tunables {

// Shown as the value of a file that does not exist.
inline constexpr std::string_view kMissing = "(missing)";

// A file holding what the kernel never writes there.
class MalformedFile : public core::Error {
  public:
    MalformedFile(std::string path, std::string token, std::string expected);

    const std::string& path() const noexcept { return path_; }
    const std::string& token() const noexcept { return token_; }
    const std::string& expected() const noexcept { return expected_; }

  private:
    std::string path_;
    std::string token_;
    std::string expected_;
};

// Reads files for one check and keeps what it read as evidence.
class Probe {
  public:
    explicit Probe(const CheckContext& ctx) : ctx_(ctx) {}

    const CheckContext& ctx() const noexcept { return ctx_; }

    // The trimmed text, recorded as evidence; a missing file is recorded as
    // "(missing)" and gives nullopt.
    std::optional<std::string> read(std::string_view path);
    // The same without recording (the caller records a summary instead).
    std::optional<std::string> read_quiet(std::string_view path) const;
    // An integer file ("10", "-1"); throws MalformedFile otherwise.
    std::optional<std::int64_t> read_integer(std::string_view path);
    std::optional<std::int64_t> read_integer_quiet(std::string_view path) const;

    void note(std::string path, std::string value);
    std::vector<Evidence>& evidence() noexcept { return evidence_; }

  private:
    const CheckContext& ctx_;
    std::vector<Evidence> evidence_;
};

CheckResult malformed_result(Probe& probe, const MalformedFile& e);

// Runs a check body with a fresh Probe; a MalformedFile becomes a fail that
// names the file and the bad token.
template <typename Body>
CheckResult guarded(const CheckContext& ctx, Body&& body) {
    Probe probe(ctx);
    try {
        return body(probe);
    } catch (const MalformedFile& e) {
        return malformed_result(probe, e);
    }
}

// The reason a per-CPU check cannot run: no isolated CPUs known, or none of
// them online; nullopt when it can.
std::optional<CheckResult> isolated_cpus_unknown(const CheckContext& ctx);
// The isolated CPUs that are online: what per-CPU checks look at.
core::CpuSet checked_cpus(const CheckContext& ctx);

// "CPU 3", "CPUs 2-3,6-7".
std::string cpus_phrase(const core::CpuSet& cpus);
// The values joined: "2: C6 133us, 3: C6 133us".
std::string join(const std::vector<std::string>& parts, std::string_view separator = ", ");

}  // namespace qc::monitor::tunables
