# METADATA
# title: Scaled to zero
# description: >-
#   A Deployment or StatefulSet with replicas set to 0 runs nothing yet is kept around, often with its
#   volumes, Services and configuration still costing money and attention.
# custom:
#   id: scaled-to-zero
#   category: cost
#   severity: low
#   frameworks:
#     SOC2: ["A1.1"]
#     ISO27001: ["A.8.6"]
#   remediation: Delete the workload (and its volumes) if it is no longer used, or scale it back up.
package kubepolicy.cost.scaled_to_zero

import data.lib.kubernetes as k8s

scalable_kinds := {"Deployment", "StatefulSet"}

violation contains {
	"msg": concat("", [k8s.workload, " is scaled to zero (spec.replicas: 0)"]),
	"path": "/spec/replicas",
} if {
	scalable_kinds[k8s.kind]

	# Only an explicit 0: an omitted replicas field means 1.
	k8s.obj.spec.replicas == 0
}
