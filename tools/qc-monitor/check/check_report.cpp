#include "check/check_report.hpp"

#include <algorithm>
#include <sstream>
#include <string_view>
#include <vector>

namespace qc::monitor {

namespace {

constexpr std::string_view kHeaderIndent = "  ";
constexpr std::size_t kStatusWidth = 4;  // "fail", "warn", "skip", "ok  "

std::string cpus_or(const core::CpuSet& cpus, std::string_view none) {
    return cpus.empty() ? std::string(none) : cpus.to_list();
}

// "cmdline" of "cmdline.nohz_full": the group a check is listed under.
std::string_view area_of(std::string_view id) {
    return id.substr(0, id.find('.'));
}

std::string padded(std::string_view text, std::size_t width) {
    std::string line(text);
    line.resize(std::max(width, text.size()), ' ');
    return line;
}

void print_header(std::ostream& out, const CheckContext& ctx) {
    const std::string root = ctx.sys == nullptr ? "/" : ctx.sys->root();
    out << "qc-monitor check of " << (root == "/" ? "the live system (/)" : "snapshot " + root)
        << '\n';
    const auto field = [&out](std::string_view name) -> std::ostream& {
        return out << kHeaderIndent << padded(name, 14);
    };
    if (ctx.isolated_known) {
        field("isolated") << ctx.isolated.to_list() << " (from " << ctx.isolated_source << ")\n";
    } else {
        field("isolated") << "none: no --isolated given and the kernel isolates no CPUs (read "
                          << ctx.isolated_source << ")\n";
    }
    field("housekeeping") << cpus_or(ctx.housekeeping, "none") << '\n';
    field("online") << cpus_or(ctx.online, "none") << '\n';
    field("kernel") << (ctx.kernel_release.empty() ? "unknown" : ctx.kernel_release) << '\n';
    field("arch") << (ctx.arch.empty() ? "unknown" : ctx.arch) << '\n';
    if (ctx.interval_seconds > 0) {
        field("sampled") << "counters read twice, " << ctx.interval_seconds << " s apart\n";
    } else {
        field("sampled") << "no counters sampled: rate checks skip\n";
    }
}

// A text-report line of evidence longer than this is cut (a whole kernel
// command line is evidence, but not readable in a report); --json keeps all.
constexpr std::size_t kMaxEvidenceLine = 160;

// Continuation lines of a multi-line value line up under its first line.
void print_value(std::ostream& out, std::string_view value, std::size_t indent) {
    bool first = true;
    std::size_t pos = 0;
    while (true) {
        const std::size_t eol = value.find('\n', pos);
        const std::string_view line = value.substr(pos, eol - pos);
        if (!first) {
            out << '\n' << std::string(indent, ' ');
        }
        if (line.size() > kMaxEvidenceLine) {
            out << line.substr(0, kMaxEvidenceLine) << "... (" << line.size()
                << " characters; --json has them all)";
        } else {
            out << line;
        }
        first = false;
        if (eol == std::string_view::npos || eol + 1 == value.size()) {
            break;
        }
        pos = eol + 1;
    }
    out << '\n';
}

void print_outcome(std::ostream& out, const CheckOutcome& outcome, std::size_t id_width) {
    const CheckResult& result = outcome.result;
    out << "  " << padded(to_string(result.status), kStatusWidth) << "  "
        << padded(outcome.id, id_width) << "  " << outcome.title << '\n';
    const std::string detail(2 + kStatusWidth + 2, ' ');
    out << detail << result.summary << '\n';
    for (const Evidence& evidence : result.evidence) {
        out << detail << evidence.path << ": ";
        print_value(out, evidence.value, detail.size() + evidence.path.size() + 2);
    }
    if (result.status == CheckStatus::warn || result.status == CheckStatus::fail) {
        out << detail << "fix: " << result.fix << '\n';
    }
}

}  // namespace

std::string counts_line(const CheckCounts& counts) {
    std::ostringstream line;
    line << counts.total() << (counts.total() == 1 ? " check: " : " checks: ") << counts.ok
         << " ok, " << counts.warn << " warn, " << counts.fail << " fail, " << counts.skip
         << " skip";
    return line.str();
}

void print_check_report(std::ostream& out, const CheckContext& ctx, const CheckRun& run) {
    print_header(out, ctx);
    std::size_t id_width = 0;
    for (const CheckOutcome& outcome : run.outcomes) {
        id_width = std::max(id_width, outcome.id.size());
    }
    // Areas in the order they first appear, so a group stays whole even if
    // the registry interleaves them.
    std::vector<std::string_view> areas;
    for (const CheckOutcome& outcome : run.outcomes) {
        if (std::find(areas.begin(), areas.end(), area_of(outcome.id)) == areas.end()) {
            areas.push_back(area_of(outcome.id));
        }
    }
    for (std::string_view area : areas) {
        out << '\n' << area << '\n';
        for (const CheckOutcome& outcome : run.outcomes) {
            if (area_of(outcome.id) == area) {
                print_outcome(out, outcome, id_width);
            }
        }
    }
    out << '\n' << counts_line(run.counts) << '\n';
}

nlohmann::ordered_json check_outcomes_json(const CheckRun& run) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const CheckOutcome& outcome : run.outcomes) {
        nlohmann::ordered_json evidence = nlohmann::ordered_json::array();
        for (const Evidence& e : outcome.result.evidence) {
            evidence.push_back({{"path", e.path}, {"value", e.value}});
        }
        const bool has_fix = outcome.result.status == CheckStatus::warn ||
                             outcome.result.status == CheckStatus::fail;
        checks.push_back({{"id", outcome.id},
                          {"title", outcome.title},
                          {"status", std::string(to_string(outcome.result.status))},
                          {"summary", outcome.result.summary},
                          {"evidence", std::move(evidence)},
                          {"fix", has_fix ? outcome.result.fix : std::string()}});
    }
    return checks;
}

nlohmann::ordered_json check_report_json(const CheckContext& ctx, const CheckRun& run) {
    return {{"root", ctx.sys == nullptr ? std::string("/") : ctx.sys->root()},
            {"isolated", ctx.isolated.to_list()},
            {"isolated_source", ctx.isolated_source},
            {"housekeeping", ctx.housekeeping.to_list()},
            {"online", ctx.online.to_list()},
            {"arch", ctx.arch},
            {"kernel_release", ctx.kernel_release},
            {"interval_seconds", ctx.interval_seconds},
            {"counts",
             {{"ok", run.counts.ok},
              {"warn", run.counts.warn},
              {"fail", run.counts.fail},
              {"skip", run.counts.skip}}},
            {"checks", check_outcomes_json(run)},
            {"exit_status", check_exit_status(run.counts)}};
}

}  // namespace qc::monitor
