# METADATA
# title: Excessive CPU limit
# description: >-
#   A container whose CPU limit exceeds the configured maximum (config.maxCpuLimit, 2 cores by default)
#   can claim far more of a node than it usually needs, which drives up node count and cost.
# custom:
#   id: cpu-limit-excessive
#   category: cost
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1"]
#     ISO27001: ["A.8.6"]
#   remediation: Lower resources.limits.cpu to at most the configured maximum, or split the work across more replicas.
package kubepolicy.cost.cpu_limit_excessive

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.quantity
import data.lib.text

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " sets resources.limits.cpu to ", text.str(limit), ", above the maximum of ", text.str(maximum)]),
	"path": concat("", [entry.pointer, "/resources/limits/cpu"]),
} if {
	maximum := config.value("maxCpuLimit")
	some entry in k8s.resourced_containers
	limit := entry.container.resources.limits.cpu

	# Unparsable quantities leave the comparison undefined: the rule stays quiet for them.
	quantity.parse(limit) > quantity.parse(maximum)
}
