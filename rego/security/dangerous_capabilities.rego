# METADATA
# title: Dangerous capabilities added
# description: >-
#   Containers must not add capabilities that give control of the host or of other workloads' traffic: ALL, SYS_ADMIN,
#   NET_ADMIN, SYS_PTRACE, SYS_MODULE, NET_RAW, BPF, PERFMON, DAC_READ_SEARCH (any case, with or without the CAP_ prefix).
# custom:
#   id: dangerous-capabilities
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.8", "5.2.9"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove these capabilities from securityContext.capabilities.add; grant only the narrow capability the application needs.
#   fix:
#     risk: high
package kubepolicy.security.dangerous_capabilities

import data.lib.kubernetes as k8s
import data.lib.patch

dangerous_names := {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_RAW", "BPF", "PERFMON", "DAC_READ_SEARCH"}

# The fix replaces the whole list with the other capabilities, in their order: removing entries by index would
# shift the later indices between operations.
violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " adds dangerous capabilities: ", concat(", ", found), " (securityContext.capabilities.add)"]),
	"path": path,
	"fix": [{"op": "replace", "path": path, "value": kept}],
} if {
	some entry in k8s.containers
	added := entry.container.securityContext.capabilities.add
	is_array(added)
	found := [cap | some cap in added; dangerous(cap)]
	count(found) > 0
	kept := [cap | some cap in added; not dangerous(cap)]
	path := patch.pointer(entry.pointer, ["securityContext", "capabilities", "add"])
}

dangerous(cap) if {
	is_string(cap)
	trim_prefix(upper(cap), "CAP_") in dangerous_names
}
