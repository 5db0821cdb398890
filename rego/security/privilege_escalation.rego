# METADATA
# title: Privilege escalation allowed
# description: >-
#   Containers must set securityContext.allowPrivilegeEscalation to false. Kubernetes allows escalation by default,
#   so a process can gain more privileges than its parent (setuid binaries, file capabilities).
# custom:
#   id: privilege-escalation
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.6"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Set securityContext.allowPrivilegeEscalation to false on every container.
#   fix:
#     risk: low
package kubepolicy.security.privilege_escalation

import data.lib.kubernetes as k8s
import data.lib.patch

keys := ["securityContext", "allowPrivilegeEscalation"]

# Only an explicit false turns escalation off. Kubernetes also forces it on for privileged containers and CAP_SYS_ADMIN;
# privileged-container and dangerous-capabilities report those, this rule checks the field alone.
violation contains finding if {
	not k8s.windows
	some entry in k8s.containers
	not entry.container.securityContext.allowPrivilegeEscalation == false
	finding := with_fix(
		{
			"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " does not set securityContext.allowPrivilegeEscalation: false"]),
			"path": located(entry.container, entry.pointer, keys),
		},
		entry,
	)
}

# The API server refuses allowPrivilegeEscalation: false on a privileged container: no fix until
# privileged-container's (approved) fix has removed privileged.
with_fix(finding, entry) := object.union(finding, {"fix": patch.set(entry.container, entry.pointer, keys, false)}) if {
	not entry.container.securityContext.privileged == true
}

with_fix(finding, entry) := finding if entry.container.securityContext.privileged == true

# JSON Pointer of the field when it is set, else of its closest existing parent.
located(obj, base, path) := patch.pointer(base, array.slice(path, 0, depth)) if {
	depth := max({i |
		some i in numbers.range(0, count(path))
		object.get(obj, array.slice(path, 0, i), null) != null
	})
}
