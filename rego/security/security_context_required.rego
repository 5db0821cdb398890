# METADATA
# title: Container without a security context
# description: >-
#   Every container must declare a securityContext. Without one it runs with the runtime's defaults: privilege
#   escalation allowed, the image's user (often root), the default capability set and no seccomp filter.
# custom:
#   id: security-context-required
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.7.3"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Give every container a securityContext, starting from the restricted profile (no privilege escalation, non-root, all capabilities dropped, RuntimeDefault seccomp).
#   fix:
#     risk: medium
package kubepolicy.security.security_context_required

import data.lib.kubernetes as k8s

# The Pod Security Standards "restricted" settings. readOnlyRootFilesystem is left to its own rule, whose fix is high risk.
restricted := {
	"allowPrivilegeEscalation": false,
	"runAsNonRoot": true,
	"capabilities": {"drop": ["ALL"]},
	"seccompProfile": {"type": "RuntimeDefault"},
}

violation contains finding if {
	some entry in k8s.containers
	object.get(entry.container, "securityContext", null) == null
	finding := with_fix({"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no securityContext"]), "path": entry.pointer}, entry)
}

# The restricted settings are Linux settings the API server forbids on Windows pods: report, but no fix there.
with_fix(finding, entry) := object.union(finding, {"fix": [{"op": "add", "path": concat("", [entry.pointer, "/securityContext"]), "value": restricted}]}) if {
	not k8s.windows
}

with_fix(finding, _) := finding if k8s.windows
