# METADATA
# title: Minimum replicas
# description: >-
#   A Deployment or StatefulSet should run at least config.minReplicas replicas (2 by default) so one pod
#   failing or being evicted does not take the service down, unless a HorizontalPodAutoscaler manages its
#   replica count. replicas 0 is a deliberate scale to zero, reported by cost/scaled-to-zero instead.
# custom:
#   id: replicas-minimum
#   category: performance
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1", "A1.2"]
#     HIPAA: ["164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"]
#     ISO27001: ["A.8.14"]
#   remediation: Raise spec.replicas to at least config.minReplicas (2 by default), or let a HorizontalPodAutoscaler manage the workload.
#   fix:
#     risk: medium
package kubepolicy.performance.replicas_minimum

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

violation contains {
	"msg": concat("", [k8s.workload, " runs ", text.str(k8s.replicas), " ", text.str(replica_word), ", below the minimum of ", text.str(min_replicas), ", and no HorizontalPodAutoscaler manages it"]),
	"path": path,
	"fix": patch.set(k8s.obj, "", ["spec", "replicas"], min_replicas),
} if {
	below_minimum
	k8s.known("horizontalPodAutoscalers")
	not managed_by_hpa
}

not_evaluated contains {"msg": concat("", [k8s.workload, " runs ", text.str(k8s.replicas), " ", text.str(replica_word), ", below the minimum of ", text.str(min_replicas), ", but the HorizontalPodAutoscalers of namespace ", text.quote(k8s.namespace), " are not known"])} if {
	below_minimum
	not k8s.known("horizontalPodAutoscalers")
}

min_replicas := to_number(config.value("minReplicas"))

below_minimum if {
	k8s.kind in {"Deployment", "StatefulSet"}
	is_number(k8s.replicas)
	k8s.replicas > 0
	k8s.replicas < min_replicas
}

managed_by_hpa if {
	some hpa in k8s.context_list("horizontalPodAutoscalers")
	object.get(hpa, ["metadata", "namespace"], k8s.namespace) == k8s.namespace
	hpa.spec.scaleTargetRef.kind == k8s.kind
	hpa.spec.scaleTargetRef.name == k8s.name
}

replica_word := "replica" if k8s.replicas == 1

else := "replicas"

path := "/spec/replicas" if object.get(k8s.obj.spec, "replicas", null) != null

else := "/spec"
