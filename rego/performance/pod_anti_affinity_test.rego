package kubepolicy.performance.pod_anti_affinity_test

import data.kubepolicy.performance.pod_anti_affinity

workload(kind, replicas, pod_metadata, pod_spec, context) := {
	"object": {
		"apiVersion": "apps/v1",
		"kind": kind,
		"metadata": {"name": "api", "namespace": "shop"},
		"spec": {"replicas": replicas, "template": {"metadata": pod_metadata, "spec": pod_spec}},
	},
	"context": context,
}

labelled := {"labels": {"app": "api", "tier": "backend"}}

containers := {"containers": [{"name": "web"}]}

preferred_anti_affinity := {"preferredDuringSchedulingIgnoredDuringExecution": [{
	"weight": 100,
	"podAffinityTerm": {
		"topologyKey": "kubernetes.io/hostname",
		"labelSelector": {"matchLabels": {"app": "api", "tier": "backend"}},
	},
}]}

test_fires_for_replicated_deployment_without_spreading if {
	findings := pod_anti_affinity.violation with input as workload("Deployment", 3, labelled, containers, {})
	findings == {{
		"msg": `Deployment "api" runs 3 replicas but sets neither affinity.podAntiAffinity nor topologySpreadConstraints, so its pods can all land on one node`,
		"path": "/spec/template/spec",
		"fix": [{"op": "add", "path": "/spec/template/spec/affinity", "value": {"podAntiAffinity": preferred_anti_affinity}}],
	}}
}

test_fix_keeps_existing_node_affinity if {
	pod_spec := object.union(containers, {"affinity": {"nodeAffinity": {}}, "topologySpreadConstraints": []})
	findings := pod_anti_affinity.violation with input as workload("StatefulSet", 2, labelled, pod_spec, {})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/affinity"
	f.fix == [{"op": "add", "path": "/spec/template/spec/affinity/podAntiAffinity", "value": preferred_anti_affinity}]
}

test_fires_without_fix_when_pods_have_no_labels if {
	findings := pod_anti_affinity.violation with input as workload("ReplicaSet", 2, {}, containers, {})
	findings == {{
		"msg": `ReplicaSet "api" runs 2 replicas but sets neither affinity.podAntiAffinity nor topologySpreadConstraints, so its pods can all land on one node`,
		"path": "/spec/template/spec",
	}}
}

test_fires_when_an_hpa_can_scale_beyond_one_replica if {
	hpas := {"horizontalPodAutoscalers": [
		{"metadata": {"name": "a"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "maxReplicas": 4}},
		{"metadata": {"name": "b", "namespace": "shop"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "maxReplicas": 6}},
		{"metadata": {"name": "c", "namespace": "other"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "maxReplicas": 9}},
	]}
	findings := pod_anti_affinity.violation with input as workload("Deployment", 1, labelled, containers, hpas)
	[f] := [f | some f in findings]
	f.msg == `Deployment "api" can be scaled to 6 replicas by a HorizontalPodAutoscaler but sets neither affinity.podAntiAffinity nor topologySpreadConstraints, so its pods can all land on one node`
}

test_quiet_with_pod_anti_affinity if {
	pod_spec := object.union(containers, {"affinity": {"podAntiAffinity": preferred_anti_affinity}})
	count(pod_anti_affinity.violation) == 0 with input as workload("Deployment", 3, labelled, pod_spec, {})
}

test_quiet_with_topology_spread_constraints if {
	pod_spec := object.union(containers, {"topologySpreadConstraints": [{
		"maxSkew": 1,
		"topologyKey": "topology.kubernetes.io/zone",
		"whenUnsatisfiable": "ScheduleAnyway",
		"labelSelector": {"matchLabels": {"app": "api"}},
	}]})
	count(pod_anti_affinity.violation) == 0 with input as workload("Deployment", 3, labelled, pod_spec, {})
}

test_quiet_for_a_single_replica if {
	count(pod_anti_affinity.violation) == 0 with input as workload("Deployment", 1, labelled, containers, {"horizontalPodAutoscalers": []})
	count(pod_anti_affinity.violation) == 0 with input as workload("Deployment", 0, labelled, containers, {})
	one_max := {"horizontalPodAutoscalers": [{"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "maxReplicas": 1}}]}
	count(pod_anti_affinity.violation) == 0 with input as workload("Deployment", 1, labelled, containers, one_max)
}

test_quiet_for_kinds_without_replicas if {
	count(pod_anti_affinity.violation) == 0 with input as workload("DaemonSet", 3, labelled, containers, {})
	count(pod_anti_affinity.violation) == 0 with input as workload("Job", 3, labelled, containers, {})
}
