# METADATA
# title: CPU request
# description: >-
#   Every container (init containers included) should request CPU so the scheduler reserves capacity
#   for it. A container with a CPU limit but no request passes: Kubernetes sets the request to the limit.
# custom:
#   id: cpu-requests
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.6"]
#     NSA-CISA: ["Network separation and hardening: resource policies"]
#   remediation: Set resources.requests.cpu on the container (the fix uses config.defaults.cpuRequest, 100m by default).
#   fix:
#     risk: low
package kubepolicy.performance.cpu_requests

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.patch

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no CPU request (resources.requests.cpu)"]),
	"path": closest_parent(entry),
	"fix": patch.set(entry.container, entry.pointer, ["resources", "requests", "cpu"], config.fix_default("cpuRequest")),
} if {
	some entry in k8s.resourced_containers
	object.get(entry.container, ["resources", "requests", "cpu"], null) == null

	# Without a request Kubernetes copies the limit, so a container with a CPU limit has a request.
	object.get(entry.container, ["resources", "limits", "cpu"], null) == null
}

# Pointer of the deepest existing parent of resources.requests.cpu.
closest_parent(entry) := concat("", [entry.pointer, "/resources/requests"]) if {
	is_object(object.get(entry.container, ["resources", "requests"], null))
} else := concat("", [entry.pointer, "/resources"]) if {
	is_object(object.get(entry.container, "resources", null))
} else := entry.pointer
