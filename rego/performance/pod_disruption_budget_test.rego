package kubepolicy.performance.pod_disruption_budget_test

import data.kubepolicy.performance.pod_disruption_budget

workload(kind, replicas, context) := {
	"object": {
		"apiVersion": "apps/v1",
		"kind": kind,
		"metadata": {"name": "api", "namespace": "shop"},
		"spec": {"replicas": replicas, "template": {
			"metadata": {"labels": {"app": "api", "tier": "backend"}},
			"spec": {"containers": [{"name": "web"}]},
		}},
	},
	"context": context,
}

pdb(namespace, selector) := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "pdb", "namespace": namespace},
	"spec": {"maxUnavailable": 1, "selector": selector},
}

test_fires_when_no_pdb_selects_the_pods if {
	context := {"podDisruptionBudgets": [
		pdb("shop", {"matchLabels": {"app": "web"}}),
		pdb("other", {"matchLabels": {"app": "api"}}),
		{"metadata": {"name": "null-selector", "namespace": "shop"}, "spec": {"minAvailable": 1}},
	]}
	findings := pod_disruption_budget.violation with input as workload("Deployment", 3, context)
	findings == {{
		"msg": `Deployment "api" runs 3 replicas but no PodDisruptionBudget selects its pods`,
		"path": "/spec/template/metadata",
	}}
	count(pod_disruption_budget.not_evaluated) == 0 with input as workload("Deployment", 3, context)
}

test_fires_when_an_hpa_can_scale_beyond_one_replica if {
	context := {
		"podDisruptionBudgets": [],
		"horizontalPodAutoscalers": [{"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "api"}, "maxReplicas": 4}}],
	}
	findings := pod_disruption_budget.violation with input as workload("StatefulSet", 1, context)
	[f] := [f | some f in findings]
	f.msg == `StatefulSet "api" can be scaled to 4 replicas by a HorizontalPodAutoscaler but no PodDisruptionBudget selects its pods`
}

test_quiet_when_a_pdb_matches_labels if {
	count(pod_disruption_budget.violation) == 0 with input as workload("Deployment", 3, {"podDisruptionBudgets": [pdb("shop", {"matchLabels": {"app": "api"}})]})
}

test_quiet_when_a_pdb_matches_expressions if {
	selector := {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend", "db"]}]}
	count(pod_disruption_budget.violation) == 0 with input as workload("StatefulSet", 3, {"podDisruptionBudgets": [pdb("shop", selector)]})
}

# policy/v1: an empty selector selects every pod of the namespace.
test_quiet_when_a_pdb_has_an_empty_selector if {
	count(pod_disruption_budget.violation) == 0 with input as workload("ReplicaSet", 3, {"podDisruptionBudgets": [pdb("shop", {})]})
}

test_quiet_for_a_single_replica if {
	count(pod_disruption_budget.violation) == 0 with input as workload("Deployment", 1, {"podDisruptionBudgets": []})
	count(pod_disruption_budget.not_evaluated) == 0 with input as workload("Deployment", 1, {})
}

test_quiet_for_kinds_without_replicas if {
	count(pod_disruption_budget.violation) == 0 with input as workload("DaemonSet", 3, {"podDisruptionBudgets": []})
	count(pod_disruption_budget.not_evaluated) == 0 with input as workload("DaemonSet", 3, {})
}

test_not_evaluated_without_pdbs if {
	count(pod_disruption_budget.violation) == 0 with input as workload("Deployment", 3, {"horizontalPodAutoscalers": []})
	pod_disruption_budget.not_evaluated == {{"msg": `Deployment "api" runs 3 replicas, but the PodDisruptionBudgets of namespace "shop" are not known`}} with input as workload("Deployment", 3, {"horizontalPodAutoscalers": []})
}
