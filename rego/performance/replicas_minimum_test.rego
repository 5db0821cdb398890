package kubepolicy.performance.replicas_minimum_test

import data.kubepolicy.performance.replicas_minimum

workload(kind, spec, context) := {
	"object": {
		"apiVersion": "apps/v1",
		"kind": kind,
		"metadata": {"name": "api", "namespace": "shop"},
		"spec": object.union(spec, {"template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "web"}]}}}),
	},
	"context": context,
}

hpa(namespace, kind, name) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "hpa", "namespace": namespace},
	"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}, "minReplicas": 1, "maxReplicas": 5},
}

no_hpas := {"horizontalPodAutoscalers": []}

test_fires_for_single_replica_deployment if {
	findings := replicas_minimum.violation with input as workload("Deployment", {"replicas": 1}, no_hpas)
	findings == {{
		"msg": `Deployment "api" runs 1 replica, below the minimum of 2, and no HorizontalPodAutoscaler manages it`,
		"path": "/spec/replicas",
		"fix": [{"op": "add", "path": "/spec/replicas", "value": 2}],
	}}
	count(replicas_minimum.not_evaluated) == 0 with input as workload("Deployment", {"replicas": 1}, no_hpas)
}

test_fires_when_replicas_is_omitted if {
	findings := replicas_minimum.violation with input as workload("StatefulSet", {}, no_hpas)
	[f] := [f | some f in findings]
	f.path == "/spec"
	f.fix == [{"op": "add", "path": "/spec/replicas", "value": 2}]
}

test_fix_uses_configured_minimum if {
	findings := replicas_minimum.violation with input as workload("StatefulSet", {"replicas": 2}, no_hpas)
		with data.config as {"minReplicas": 3}
	[f] := [f | some f in findings]
	f.msg == `StatefulSet "api" runs 2 replicas, below the minimum of 3, and no HorizontalPodAutoscaler manages it`
	f.fix == [{"op": "add", "path": "/spec/replicas", "value": 3}]
}

test_fires_when_hpas_target_other_workloads if {
	count(replicas_minimum.violation) == 1 with input as workload("Deployment", {"replicas": 1}, {"horizontalPodAutoscalers": [
		hpa("shop", "Deployment", "web"),
		hpa("shop", "StatefulSet", "api"),
		hpa("other", "Deployment", "api"),
	]})
}

test_quiet_when_an_hpa_manages_it if {
	count(replicas_minimum.violation) == 0 with input as workload("Deployment", {"replicas": 1}, {"horizontalPodAutoscalers": [hpa("shop", "Deployment", "api")]})
}

test_quiet_at_or_above_minimum if {
	count(replicas_minimum.violation) == 0 with input as workload("Deployment", {"replicas": 2}, no_hpas)
	count(replicas_minimum.violation) == 0 with input as workload("StatefulSet", {"replicas": 5}, no_hpas)
}

# replicas 0 is a deliberate scale to zero, reported by cost/scaled-to-zero.
test_quiet_when_scaled_to_zero if {
	count(replicas_minimum.violation) == 0 with input as workload("Deployment", {"replicas": 0}, no_hpas)
	count(replicas_minimum.not_evaluated) == 0 with input as workload("Deployment", {"replicas": 0}, {})
}

test_quiet_for_other_kinds if {
	count(replicas_minimum.violation) == 0 with input as workload("ReplicaSet", {"replicas": 1}, no_hpas)
	count(replicas_minimum.violation) == 0 with input as workload("DaemonSet", {}, no_hpas)
	count(replicas_minimum.violation) == 0 with input as workload("Job", {}, no_hpas)
}

test_not_evaluated_without_hpas if {
	input_without_hpas := workload("Deployment", {"replicas": 1}, {"podDisruptionBudgets": []})
	count(replicas_minimum.violation) == 0 with input as input_without_hpas
	replicas_minimum.not_evaluated == {{"msg": `Deployment "api" runs 1 replica, below the minimum of 2, but the HorizontalPodAutoscalers of namespace "shop" are not known`}} with input as input_without_hpas
}

test_evaluated_without_hpas_when_replicas_suffice if {
	count(replicas_minimum.not_evaluated) == 0 with input as workload("Deployment", {"replicas": 3}, {})
}
