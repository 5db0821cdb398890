package kubepolicy.cost.scaled_to_zero_test

import data.kubepolicy.cost.scaled_to_zero

workload(kind, spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": kind,
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": object.union(spec, {"template": {"spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}}}),
}}

test_fires_for_deployment_scaled_to_zero if {
	findings := scaled_to_zero.violation with input as workload("Deployment", {"replicas": 0})
	count(findings) == 1
	some f in findings
	f.path == "/spec/replicas"
	f.msg == `Deployment "web" is scaled to zero (spec.replicas: 0)`
}

test_fires_for_statefulset_scaled_to_zero if {
	count(scaled_to_zero.violation) == 1 with input as workload("StatefulSet", {"replicas": 0})
}

test_quiet_when_replicas_omitted_or_positive if {
	count(scaled_to_zero.violation) == 0 with input as workload("Deployment", {})
	count(scaled_to_zero.violation) == 0 with input as workload("Deployment", {"replicas": 3})
}

test_quiet_for_other_kinds if {
	count(scaled_to_zero.violation) == 0 with input as workload("ReplicaSet", {"replicas": 0})
	count(scaled_to_zero.violation) == 0 with input as workload("DaemonSet", {"replicas": 0})
}
