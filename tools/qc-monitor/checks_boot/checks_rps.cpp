// rps.masks: Receive Packet Steering sends no packet processing (and the
// IPI that starts it) to an isolated CPU.
#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kNetDir = "/sys/class/net";
constexpr std::size_t kMaxEvidence = 10;

CheckResult check_rps_masks(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        const auto interfaces = ctx.sys->list(kNetDir);
        if (interfaces.empty()) {
            return check_skip(std::string(kNetDir) + " not found");
        }
        std::vector<std::string> offenders;
        std::vector<std::string> paths;
        std::vector<Evidence> evidence;
        std::size_t checked = 0;
        std::size_t steering = 0;
        for (const std::string& interface : interfaces) {
            const std::string queues = std::string(kNetDir) + "/" + interface + "/queues";
            for (const std::string& queue : ctx.sys->list(queues)) {
                if (queue.rfind("rx-", 0) != 0) {
                    continue;
                }
                const std::string path = queues + "/" + queue + "/rps_cpus";
                const auto text = read_trimmed(*ctx.sys, path);
                if (!text) {
                    continue;
                }
                ++checked;
                const core::CpuSet cpus = parse_mask_in(path, *text);
                if (!cpus.empty()) {
                    ++steering;
                }
                if (cpus.intersects(ctx.isolated)) {
                    offenders.push_back(interface + " " + queue + " " + *text + " (" +
                                        cpus_named(cpus) + ")");
                    paths.push_back(path);
                    if (evidence.size() < kMaxEvidence) {
                        evidence.push_back({path, *text});
                    }
                }
            }
        }
        if (checked == 0) {
            return check_skip("no " + std::string(kNetDir) + "/*/queues/rx-*/rps_cpus files");
        }
        if (offenders.empty()) {
            return check_ok(
                "no RPS mask of the " + std::to_string(checked) +
                    " receive queues names an isolated CPU (" + std::to_string(steering) +
                    " steer to housekeeping CPUs, the "
                    "rest are off)",
                {{std::string(kNetDir) + "/*/queues/rx-*/rps_cpus",
                  std::to_string(checked) + " queues, none on " + ctx.isolated.to_list()}});
        }
        return check_fail(
            "packet processing steered to isolated CPUs: " +
                counted(offenders.size(), "receive queue", "receive queues", offenders),
            std::move(evidence),
            "for f in " +
                (paths.size() <= 4 ? join(paths, " ")
                                   : std::string(kNetDir) + "/*/queues/rx-*/rps_cpus") +
                "; do echo 0 > $f; done (or a "
                "housekeeping mask such as " +
                ctx.housekeeping.to_mask() + ")");
    });
}

}  // namespace

std::vector<CheckDef> rps_checks() {
    return {
        {"rps.masks", "Receive Packet Steering keeps packets off the isolated CPUs",
         check_rps_masks},
    };
}

}  // namespace qc::monitor::boot
