# METADATA
# title: PodDisruptionBudget
# description: >-
#   A Deployment, StatefulSet or ReplicaSet that runs more than one replica (or that a HorizontalPodAutoscaler
#   can scale beyond one) should be covered by a PodDisruptionBudget of its namespace, so node drains and
#   upgrades never evict all of its pods at once.
# custom:
#   id: pod-disruption-budget
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.2"]
#     HIPAA: ["164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"]
#     ISO27001: ["A.8.14"]
#   remediation: Add a PodDisruptionBudget (e.g. maxUnavailable 1) whose spec.selector matches the pod template's labels.
package kubepolicy.performance.pod_disruption_budget

import data.lib.kubernetes as k8s
import data.lib.selectors
import data.lib.text

violation contains {
	"msg": concat("", [k8s.workload, " ", text.str(replica_text), " but no PodDisruptionBudget selects its pods"]),
	"path": k8s.pod_metadata_pointer,
} if {
	k8s.is_replicated
	replica_text
	k8s.known("podDisruptionBudgets")
	not covered
}

not_evaluated contains {"msg": concat("", [k8s.workload, " ", text.str(replica_text), ", but the PodDisruptionBudgets of namespace ", text.quote(k8s.namespace), " are not known"])} if {
	k8s.is_replicated
	replica_text
	not k8s.known("podDisruptionBudgets")
}

covered if {
	some pdb in k8s.context_list("podDisruptionBudgets")
	object.get(pdb, ["metadata", "namespace"], k8s.namespace) == k8s.namespace

	# policy/v1: an empty selector selects every pod of the namespace, a missing (null) one selects none.
	selector := object.get(pdb, ["spec", "selector"], null)
	is_object(selector)
	selectors.matches(selector, k8s.pod_labels)
}

replica_text := concat("", ["runs ", text.str(k8s.replicas), " replicas"]) if {
	is_number(k8s.replicas)
	k8s.replicas > 1
} else := concat("", ["can be scaled to ", text.str(hpa_max), " replicas by a HorizontalPodAutoscaler"]) if {
	is_number(k8s.replicas)
	k8s.replicas > 0
	hpa_max > 1
}

# The highest maxReplicas of the HorizontalPodAutoscalers that target this workload.
hpa_max := max({n |
	some hpa in k8s.context_list("horizontalPodAutoscalers")
	object.get(hpa, ["metadata", "namespace"], k8s.namespace) == k8s.namespace
	hpa.spec.scaleTargetRef.kind == k8s.kind
	hpa.spec.scaleTargetRef.name == k8s.name
	n := hpa.spec.maxReplicas
	is_number(n)
})
