package kubepolicy.cost.memory_limit_excessive_test

import data.kubepolicy.cost.memory_limit_excessive

statefulset(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "db", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "db"}}, "spec": pod_spec}},
}}

with_memory_limit(name, memory) := {"name": name, "image": "postgres:16", "resources": {"limits": {"memory": memory}}}

test_fires_once_per_container_above_the_maximum if {
	findings := memory_limit_excessive.violation with input as statefulset({
		"containers": [
			with_memory_limit("big", "8Gi"),
			with_memory_limit("decimal", "5G"),
			with_memory_limit("edge", "4Gi"),
			with_memory_limit("mebi", "4096Mi"),
			with_memory_limit("small", "1536Mi"),
		],
		"initContainers": [with_memory_limit("migrate", "4097Mi")],
	})
	count(findings) == 3
	some f in findings
	f.path == "/spec/template/spec/containers/0/resources/limits/memory"
	f.msg == `container "big" of StatefulSet "db" sets resources.limits.memory to 8Gi, above the maximum of 4Gi`
}

test_honours_configured_maximum if {
	count(memory_limit_excessive.violation) == 1 with input as statefulset({"containers": [with_memory_limit("a", "3Gi")]})
		with data.config as {"maxMemoryLimit": "2Gi"}
}

test_fires_for_bare_pod if {
	findings := memory_limit_excessive.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {"containers": [with_memory_limit("a", "1Ti")]},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/containers/0/resources/limits/memory"
}

test_quiet_when_within_maximum if {
	count(memory_limit_excessive.violation) == 0 with input as statefulset({"containers": [
		with_memory_limit("a", "4Gi"),
		with_memory_limit("b", "512Mi"),
		{"name": "c", "image": "postgres:16"},
	]})
}

test_quiet_for_unparsable_quantity if {
	count(memory_limit_excessive.violation) == 0 with input as statefulset({"containers": [
		with_memory_limit("a", "8GB"),
		with_memory_limit("b", ""),
	]})
}
