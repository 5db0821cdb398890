# METADATA
# title: Cost allocation labels
# description: >-
#   Workloads carry the labels that cost tools group spend by (config.costLabels, team and cost-center by
#   default); without them the spend of the workload cannot be charged back to anyone.
# custom:
#   id: cost-allocation-labels
#   category: cost
#   severity: low
#   frameworks:
#     SOC2: ["A1.1"]
#     ISO27001: ["A.5.9", "A.8.6"]
#   remediation: Add the missing cost allocation labels to the workload's metadata.labels.
package kubepolicy.cost.cost_allocation_labels

import data.lib.config
import data.lib.kubernetes as k8s

missing := [key |
	some key in config.value("costLabels")
	not present(k8s.labels, key)
]

# A label with a blank value allocates to nobody.
present(labels, key) if {
	value := labels[key]
	not blank(value)
}

blank(value) if {
	is_string(value)
	trim_space(value) == ""
}

labels_path := "/metadata/labels" if is_object(k8s.obj.metadata.labels)

else := "/metadata"

violation contains {
	"msg": concat("", [k8s.workload, " is missing cost allocation labels: ", concat(", ", missing)]),
	"path": labels_path,
} if {
	k8s.is_workload
	count(missing) > 0
}
