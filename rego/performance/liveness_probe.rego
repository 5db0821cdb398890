# METADATA
# title: Liveness probe
# description: >-
#   Long-running containers should declare a livenessProbe so the kubelet restarts one that hangs. Jobs,
#   CronJobs, init containers (sidecars with restartPolicy Always included) and ephemeral containers are not checked.
# custom:
#   id: liveness-probe
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.2"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.14", "A.8.16"]
#   remediation: Add a livenessProbe (httpGet, tcpSocket, grpc or exec) that fails only when the process must be restarted.
package kubepolicy.performance.liveness_probe

import data.lib.kubernetes as k8s

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no livenessProbe"]),
	"path": entry.pointer,
} if {
	not k8s.is_batch
	some entry in k8s.app_containers
	object.get(entry.container, "livenessProbe", null) == null
}
