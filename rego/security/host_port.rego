# METADATA
# title: Host port
# description: >-
#   Container ports should not set hostPort: it binds the port on the node's address, which bypasses NetworkPolicies,
#   exposes the pod outside the cluster and limits the workload to one pod per node.
# custom:
#   id: host-port
#   category: security
#   severity: medium
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.9", "A.8.22"]
#     CIS: ["5.2.13"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Remove hostPort from the container ports and expose the pod through a Service (NodePort or LoadBalancer when it must be reachable from outside).
#   fix:
#     risk: medium
package kubepolicy.security.host_port

import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

# Once per offending port. hostPort: 0 means unset to Kubernetes (and to the Pod Security Standards), so it is ignored.
violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " binds host port ", text.str(port.hostPort), " (ports[", text.int(i), "].hostPort, containerPort ", text.str(object.get(port, "containerPort", "?")), ")"]),
	"path": path,
	"fix": [{"op": "remove", "path": path}],
} if {
	some entry in k8s.containers
	some i, port in object.get(entry.container, "ports", [])
	port.hostPort != null
	port.hostPort != 0
	path := patch.pointer(entry.pointer, ["ports", i, "hostPort"])
}
