# METADATA
# title: Readiness probe
# description: >-
#   Long-running containers should declare a readinessProbe so Services send traffic only to pods that can
#   serve it, during rollouts too. Jobs, CronJobs, init containers (sidecars with restartPolicy Always included)
#   and ephemeral containers are not checked.
# custom:
#   id: readiness-probe
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.2"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.14", "A.8.16"]
#   remediation: Add a readinessProbe (httpGet, tcpSocket, grpc or exec) that succeeds only when the container can serve requests.
package kubepolicy.performance.readiness_probe

import data.lib.kubernetes as k8s

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no readinessProbe"]),
	"path": entry.pointer,
} if {
	not k8s.is_batch
	some entry in k8s.app_containers
	object.get(entry.container, "readinessProbe", null) == null
}
