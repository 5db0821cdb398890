# METADATA
# title: Privileged container
# description: Containers must not run privileged; a privileged container has every capability of the host.
# custom:
#   id: privileged-container
#   category: security
#   severity: critical
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.5"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.2"]
#     NSA-CISA: ["Pod security: non-privileged containers"]
#   remediation: Remove securityContext.privileged or set it to false.
#   fix:
#     risk: high
package kubepolicy.security.privileged_container

import data.lib.kubernetes as k8s

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " runs privileged (securityContext.privileged: true)"]),
	"path": path,
	"fix": [{"op": "replace", "path": path, "value": false}],
} if {
	some entry in k8s.containers
	entry.container.securityContext.privileged == true
	path := concat("", [entry.pointer, "/securityContext/privileged"])
}
