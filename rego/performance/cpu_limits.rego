# METADATA
# title: CPU limit
# description: >-
#   Every container (init containers included) should have a CPU limit so a busy process cannot starve the
#   other pods of its node.
# custom:
#   id: cpu-limits
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1"]
#     HIPAA: ["164.308(a)(7)(i)"]
#     ISO27001: ["A.8.6"]
#     NSA-CISA: ["Network separation and hardening: resource policies"]
#   remediation: Set resources.limits.cpu on the container, no lower than its CPU request (the fix uses config.defaults.cpuLimit, 500m by default).
#   fix:
#     risk: medium
package kubepolicy.performance.cpu_limits

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.quantity

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no CPU limit (resources.limits.cpu)"]),
	"path": closest_parent(entry),
	"fix": patch.set(entry.container, entry.pointer, ["resources", "limits", "cpu"], limit(entry.container)),
} if {
	some entry in k8s.resourced_containers
	object.get(entry.container, ["resources", "limits", "cpu"], null) == null
}

# The configured default, or the container's request when that is higher (a limit below the request is invalid).
limit(container) := request if {
	request := object.get(container, ["resources", "requests", "cpu"], null)
	quantity.parse(request) > quantity.parse(config.fix_default("cpuLimit"))
} else := config.fix_default("cpuLimit")

# Pointer of the deepest existing parent of resources.limits.cpu.
closest_parent(entry) := concat("", [entry.pointer, "/resources/limits"]) if {
	is_object(object.get(entry.container, ["resources", "limits"], null))
} else := concat("", [entry.pointer, "/resources"]) if {
	is_object(object.get(entry.container, "resources", null))
} else := entry.pointer
