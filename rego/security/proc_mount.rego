# METADATA
# title: Unmasked /proc mount
# description: >-
#   procMount Unmasked turns off the masking of sensitive /proc paths the container runtime
#   applies by default, exposing kernel and host information to the container.
# custom:
#   id: proc-mount
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.7.3"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove securityContext.procMount or set it to Default.
#   fix:
#     risk: medium
package kubepolicy.security.proc_mount

import data.lib.kubernetes as k8s

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " sets securityContext.procMount: Unmasked"]),
	"path": path,
	"fix": [{"op": "replace", "path": path, "value": "Default"}],
} if {
	some entry in k8s.containers
	entry.container.securityContext.procMount == "Unmasked"
	path := concat("", [entry.pointer, "/securityContext/procMount"])
}
