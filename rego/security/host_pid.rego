# METADATA
# title: Host PID namespace
# description: >-
#   Pods must not share the host's process ID namespace: they could see and, with ptrace, attach to every process of
#   the node, reading their environment and memory.
# custom:
#   id: host-pid
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.3"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove hostPID from the pod spec (or set it to false).
#   fix:
#     risk: medium
package kubepolicy.security.host_pid

import data.lib.kubernetes as k8s
import data.lib.patch

# Once per workload: the field belongs to the pod spec.
violation contains {
	"msg": concat("", [k8s.workload, " shares the host process ID namespace (hostPID: true)"]),
	"path": patch.pointer(k8s.pod_spec_pointer, ["hostPID"]),
	"fix": patch.remove(k8s.pod_spec_pointer, ["hostPID"]),
} if {
	k8s.pod_spec.hostPID == true
}
