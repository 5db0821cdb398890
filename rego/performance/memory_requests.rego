# METADATA
# title: Memory request
# description: >-
#   Every container (init containers included) should request memory so the scheduler reserves it and the
#   pod is not among the first evicted under node memory pressure. A container with a memory limit but no
#   request passes: Kubernetes sets the request to the limit.
# custom:
#   id: memory-requests
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.6"]
#     NSA-CISA: ["Network separation and hardening: resource policies"]
#   remediation: Set resources.requests.memory on the container (the fix uses config.defaults.memoryRequest, 128Mi by default).
#   fix:
#     risk: low
package kubepolicy.performance.memory_requests

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.patch

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no memory request (resources.requests.memory)"]),
	"path": closest_parent(entry),
	"fix": patch.set(entry.container, entry.pointer, ["resources", "requests", "memory"], config.fix_default("memoryRequest")),
} if {
	some entry in k8s.resourced_containers
	object.get(entry.container, ["resources", "requests", "memory"], null) == null

	# Without a request Kubernetes copies the limit, so a container with a memory limit has a request.
	object.get(entry.container, ["resources", "limits", "memory"], null) == null
}

# Pointer of the deepest existing parent of resources.requests.memory.
closest_parent(entry) := concat("", [entry.pointer, "/resources/requests"]) if {
	is_object(object.get(entry.container, ["resources", "requests"], null))
} else := concat("", [entry.pointer, "/resources"]) if {
	is_object(object.get(entry.container, "resources", null))
} else := entry.pointer
