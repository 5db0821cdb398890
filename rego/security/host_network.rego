# METADATA
# title: Host network namespace
# description: >-
#   Pods must not use the host's network namespace: they would see every interface of the node, reach services bound
#   to localhost and sidestep NetworkPolicies.
# custom:
#   id: host-network
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9", "A.8.22"]
#     CIS: ["5.2.5"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove hostNetwork from the pod spec (or set it to false) and expose the pod through a Service.
#   fix:
#     risk: high
package kubepolicy.security.host_network

import data.lib.kubernetes as k8s
import data.lib.patch

# Once per workload: the field belongs to the pod spec.
# High risk: the pod gets a pod IP instead of the node's, so clients addressing the node and dnsPolicy ClusterFirstWithHostNet change behaviour.
violation contains {
	"msg": concat("", [k8s.workload, " shares the host network namespace (hostNetwork: true)"]),
	"path": patch.pointer(k8s.pod_spec_pointer, ["hostNetwork"]),
	"fix": patch.remove(k8s.pod_spec_pointer, ["hostNetwork"]),
} if {
	k8s.pod_spec.hostNetwork == true
}
