# METADATA
# title: Excessive memory limit
# description: >-
#   A container whose memory limit exceeds the configured maximum (config.maxMemoryLimit, 4Gi by default)
#   can claim far more of a node than it usually needs, which drives up node count and cost.
# custom:
#   id: memory-limit-excessive
#   category: cost
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1"]
#     ISO27001: ["A.8.6"]
#   remediation: Lower resources.limits.memory to at most the configured maximum, or split the work across more replicas.
package kubepolicy.cost.memory_limit_excessive

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.quantity
import data.lib.text

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " sets resources.limits.memory to ", text.str(limit), ", above the maximum of ", text.str(maximum)]),
	"path": concat("", [entry.pointer, "/resources/limits/memory"]),
} if {
	maximum := config.value("maxMemoryLimit")
	some entry in k8s.resourced_containers
	limit := entry.container.resources.limits.memory

	# Unparsable quantities leave the comparison undefined: the rule stays quiet for them.
	quantity.parse(limit) > quantity.parse(maximum)
}
