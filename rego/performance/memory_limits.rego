# METADATA
# title: Memory limit
# description: >-
#   Every container (init containers included) should have a memory limit so a leaking process is killed
#   on its own instead of pushing the node into memory pressure and evicting its neighbours.
# custom:
#   id: memory-limits
#   category: performance
#   severity: high
#   frameworks:
#     SOC2: ["A1.1"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.6"]
#     NSA-CISA: ["Network separation and hardening: resource policies"]
#   remediation: Set resources.limits.memory on the container, no lower than its memory request (the fix uses config.defaults.memoryLimit, 512Mi by default).
#   fix:
#     risk: medium
package kubepolicy.performance.memory_limits

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.quantity

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no memory limit (resources.limits.memory)"]),
	"path": closest_parent(entry),
	"fix": patch.set(entry.container, entry.pointer, ["resources", "limits", "memory"], limit(entry.container)),
} if {
	some entry in k8s.resourced_containers
	object.get(entry.container, ["resources", "limits", "memory"], null) == null
}

# The configured default, or the container's request when that is higher (a limit below the request is invalid).
limit(container) := request if {
	request := object.get(container, ["resources", "requests", "memory"], null)
	quantity.parse(request) > quantity.parse(config.fix_default("memoryLimit"))
} else := config.fix_default("memoryLimit")

# Pointer of the deepest existing parent of resources.limits.memory.
closest_parent(entry) := concat("", [entry.pointer, "/resources/limits"]) if {
	is_object(object.get(entry.container, ["resources", "limits"], null))
} else := concat("", [entry.pointer, "/resources"]) if {
	is_object(object.get(entry.container, "resources", null))
} else := entry.pointer
