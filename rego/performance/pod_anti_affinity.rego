# METADATA
# title: Pod anti-affinity
# description: >-
#   A Deployment, StatefulSet or ReplicaSet that runs more than one replica (or that a HorizontalPodAutoscaler
#   can scale beyond one) should spread its pods with podAntiAffinity or topologySpreadConstraints, so that
#   losing one node does not take every replica down.
# custom:
#   id: pod-anti-affinity
#   category: performance
#   severity: low
#   frameworks:
#     SOC2: ["A1.2"]
#     HIPAA: ["164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"]
#     ISO27001: ["A.8.14"]
#   remediation: Add affinity.podAntiAffinity (preferred, topologyKey kubernetes.io/hostname) or topologySpreadConstraints on the pod's labels.
#   fix:
#     risk: low
package kubepolicy.performance.pod_anti_affinity

import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

violation contains {"msg": msg, "path": path, "fix": fix} if {
	unspread
	count(k8s.pod_labels) > 0
	fix := patch.set(k8s.pod_spec, k8s.pod_spec_pointer, ["affinity", "podAntiAffinity"], anti_affinity)
}

# Without pod labels there is nothing for an anti-affinity term to select: report without a fix.
violation contains {"msg": msg, "path": path} if {
	unspread
	count(k8s.pod_labels) == 0
}

# More than one replica (now or under a HorizontalPodAutoscaler) and nothing spreading them.
unspread if {
	k8s.is_replicated
	replica_text
	not spread
}

msg := concat("", [k8s.workload, " ", text.str(replica_text), " but sets neither affinity.podAntiAffinity nor topologySpreadConstraints, so its pods can all land on one node"])

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

spread if {
	terms := object.get(k8s.pod_spec, ["affinity", "podAntiAffinity"], null)
	is_object(terms)
	count(terms) > 0
}

spread if {
	constraints := object.get(k8s.pod_spec, "topologySpreadConstraints", null)
	is_array(constraints)
	count(constraints) > 0
}

anti_affinity := {"preferredDuringSchedulingIgnoredDuringExecution": [{
	"weight": 100,
	"podAffinityTerm": {
		"topologyKey": "kubernetes.io/hostname",
		"labelSelector": {"matchLabels": k8s.pod_labels},
	},
}]}

path := concat("", [k8s.pod_spec_pointer, "/affinity"]) if is_object(object.get(k8s.pod_spec, "affinity", null))

else := k8s.pod_spec_pointer
