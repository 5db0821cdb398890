# METADATA
# title: Host IPC namespace
# description: >-
#   Pods must not share the host's IPC namespace: they could read and write the shared memory and message queues of
#   every process of the node.
# custom:
#   id: host-ipc
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.4"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove hostIPC from the pod spec (or set it to false).
#   fix:
#     risk: medium
package kubepolicy.security.host_ipc

import data.lib.kubernetes as k8s
import data.lib.patch

# Once per workload: the field belongs to the pod spec.
violation contains {
	"msg": concat("", [k8s.workload, " shares the host IPC namespace (hostIPC: true)"]),
	"path": patch.pointer(k8s.pod_spec_pointer, ["hostIPC"]),
	"fix": patch.remove(k8s.pod_spec_pointer, ["hostIPC"]),
} if {
	k8s.pod_spec.hostIPC == true
}
