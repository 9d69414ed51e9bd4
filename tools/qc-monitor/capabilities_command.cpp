#include "capabilities_command.hpp"

#include <nlohmann/json.hpp>

#include "exit_codes.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/isolation/capabilities.hpp"

namespace qc::monitor {

CLI::App* add_capabilities_command(CLI::App& app, CapabilitiesOptions& options) {
    CLI::App* cmd = app.add_subcommand(
        "capabilities", "what the running kernel offers for isolation, and the back end used");
    cmd->add_option("--sysfs", options.sysfs_root, "sysfs root to read CPU sets from")
        ->capture_default_str();
    cmd->add_flag("--json", options.json, "print JSON instead of sentences");
    return cmd;
}

int run_capabilities(const CapabilitiesOptions& options, std::ostream& out, std::ostream& err) {
    isolation::Capabilities caps;
    try {
        caps = isolation::Capabilities::probe(options.sysfs_root);
    } catch (const core::Error& e) {
        err << "qc-monitor capabilities: " << e.what() << '\n';
        return kExitFailure;
    }
    if (options.json) {
        nlohmann::json j;
        isolation::to_json(j, caps);
        out << j.dump(2) << '\n';
    } else {
        for (const std::string& sentence : isolation::describe(caps)) {
            out << sentence << '\n';
        }
    }
    return kExitOk;
}

}  // namespace qc::monitor
