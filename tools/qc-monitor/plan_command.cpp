#include "plan_command.hpp"

#include <exception>

#include "exit_codes.hpp"
#include "plan_report.hpp"
#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/topology.hpp"

namespace qc::monitor {

namespace {

// Thrown for a flag whose value turned out unusable after parsing.
struct FlagError {
    std::string flag;
    std::string message;
};

// CLI11 check: "" when the text is a cpulist, else the parser's message
// (which names the bad token).
std::string check_cpu_list(const std::string& text) {
    try {
        core::CpuSet::parse_list(text);
        return {};
    } catch (const core::ParseError& e) {
        return e.what();
    }
}

core::Topology load_topology(const PlanOptions& options) {
    try {
        if (options.topology_xml) {
            return core::Topology::from_xml_file(*options.topology_xml);
        }
        if (options.synthetic) {
            return core::Topology::from_synthetic(*options.synthetic);
        }
    } catch (const core::Error& e) {
        throw FlagError{options.topology_xml ? "--topology-xml" : "--synthetic", e.what()};
    }
    return core::Topology::from_system();
}

core::KernelCpuSets read_kernel_sets(const PlanOptions& options) {
    if (!options.sysfs_root) {
        return core::KernelCpuSets::read();
    }
    try {
        return core::KernelCpuSets::read(*options.sysfs_root);
    } catch (const core::Error& e) {
        throw FlagError{"--sysfs", e.what()};
    }
}

}  // namespace

CLI::App* add_plan_command(CLI::App& app, PlanOptions& options) {
    CLI::App* plan = app.add_subcommand(
        "plan",
        "Propose worker and housekeeping CPUs from the topology and the kernel's isolation "
        "settings, and explain every choice.");
    plan->add_option("--isolated", options.isolated,
                     "Worker candidates as a cpulist (e.g. 2-7,10); default: the kernel's "
                     "isolated and nohz_full CPUs, or a soft plan when there are none")
        ->check(CLI::Validator(check_cpu_list, "CPULIST"));
    plan->add_option("--sysfs", options.sysfs_root,
                     "Root of the sysfs tree to read the kernel's CPU sets from (default /sys)");
    auto* xml = plan->add_option("--topology-xml", options.topology_xml,
                                 "Read the topology from an hwloc XML file (lstopo --of xml)");
    auto* synthetic =
        plan->add_option("--synthetic", options.synthetic,
                         "Build the topology from an hwloc synthetic description, e.g. "
                         "\"pack:2 numa:2 core:4 pu:2\"");
    xml->excludes(synthetic);
    plan->add_flag("--json", options.json, "Print JSON instead of the text report");
    return plan;
}

int run_plan(const PlanOptions& options, std::ostream& out, std::ostream& err) {
    try {
        const core::Topology topology = load_topology(options);
        const core::KernelCpuSets kernel = read_kernel_sets(options);
        std::optional<core::CpuSet> requested;
        if (options.isolated) {
            requested = core::CpuSet::parse_list(*options.isolated);
        }
        const core::IsolationPlan plan = core::plan_isolation(topology, kernel, requested);
        if (options.json) {
            out << plan_report_json(topology, kernel, plan).dump(2) << '\n';
        } else {
            print_plan_report(out, topology, kernel, plan);
        }
        return kExitOk;
    } catch (const FlagError& e) {
        err << "qc-monitor plan: " << e.flag << ": " << e.message << '\n';
        return kExitUsage;
    } catch (const std::exception& e) {
        err << "qc-monitor plan: " << e.what() << '\n';
        return kExitFailure;
    }
}

}  // namespace qc::monitor
