// How `qc-monitor plan` shows a plan: a text report for people, JSON for
// scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/topology.hpp"

namespace qc::monitor {

// Topology table (package / NUMA node / core / CPU / role), caches summary,
// the kernel's CPU sets, then the plan and its findings.
void print_plan_report(std::ostream& out, const core::Topology& topology,
                       const core::KernelCpuSets& kernel, const core::IsolationPlan& plan);

// {"topology": <Topology JSON, each cpus[] entry with a "role">,
//  "kernel": <KernelCpuSets JSON>, "plan": <IsolationPlan JSON>}
nlohmann::json plan_report_json(const core::Topology& topology, const core::KernelCpuSets& kernel,
                                const core::IsolationPlan& plan);

}  // namespace qc::monitor
