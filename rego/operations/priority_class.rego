# METADATA
# title: Priority class
# description: >-
#   In production, pods name a PriorityClass so that the scheduler knows what to keep and what to preempt
#   when the cluster runs short of capacity.
# custom:
#   id: priority-class
#   category: operations
#   severity: low
#   frameworks:
#     SOC2: ["A1.1"]
#     ISO27001: ["A.8.6"]
#   remediation: Set priorityClassName in the pod spec to a PriorityClass that matches the workload's importance.
package kubepolicy.operations.priority_class

import data.lib.config
import data.lib.kubernetes as k8s

has_priority_class if {
	name := k8s.pod_spec.priorityClassName
	is_string(name)
	trim_space(name) != ""
}

violation contains {
	"msg": concat("", [k8s.workload, " sets no priorityClassName in its pod spec"]),
	"path": k8s.pod_spec_pointer,
} if {
	config.production
	k8s.is_workload
	is_object(k8s.pod_spec)
	not has_priority_class
}
