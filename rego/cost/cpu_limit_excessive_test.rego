package kubepolicy.cost.cpu_limit_excessive_test

import data.kubepolicy.cost.cpu_limit_excessive

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

with_cpu_limit(name, cpu) := {"name": name, "image": "nginx:1.25", "resources": {"limits": {"cpu": cpu}}}

test_fires_once_per_container_above_the_maximum if {
	findings := cpu_limit_excessive.violation with input as deployment({
		"containers": [
			with_cpu_limit("big", "2500m"),
			with_cpu_limit("numeric", 3),
			with_cpu_limit("fine", "2"),
			with_cpu_limit("small", "500m"),
		],
		"initContainers": [with_cpu_limit("setup", "4")],
	})
	count(findings) == 3
	some f in findings
	f.path == "/spec/template/spec/initContainers/0/resources/limits/cpu"
	f.msg == `init container "setup" of Deployment "web" sets resources.limits.cpu to 4, above the maximum of 2`
	object.keys(f) == {"msg", "path"}
}

test_compares_by_value_not_by_text if {
	# "10" sorts before "2" as text, "1500m" is 1.5 cores.
	findings := cpu_limit_excessive.violation with input as deployment({"containers": [
		with_cpu_limit("a", "10"),
		with_cpu_limit("b", "1500m"),
		with_cpu_limit("c", "1e1"),
	]})
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0/resources/limits/cpu",
		"/spec/template/spec/containers/2/resources/limits/cpu",
	}
}

test_honours_configured_maximum if {
	count(cpu_limit_excessive.violation) == 1 with input as deployment({"containers": [with_cpu_limit("a", "1500m")]})
		with data.config as {"maxCpuLimit": "1"}
}

test_quiet_when_within_maximum_or_unset if {
	count(cpu_limit_excessive.violation) == 0 with input as deployment({
		"containers": [
			with_cpu_limit("a", "2"),
			with_cpu_limit("b", "2000m"),
			{"name": "c", "image": "nginx:1.25", "resources": {"requests": {"cpu": "8"}}},
			{"name": "d", "image": "nginx:1.25"},
		],
		"ephemeralContainers": [with_cpu_limit("debug", "16")],
	})
}

test_quiet_for_unparsable_quantity if {
	count(cpu_limit_excessive.violation) == 0 with input as deployment({"containers": [
		with_cpu_limit("a", "lots"),
		with_cpu_limit("b", {"nested": true}),
	]})
}

test_quiet_for_non_workloads if {
	count(cpu_limit_excessive.violation) == 0 with input as {"object": {
		"kind": "PodTemplate",
		"metadata": {"name": "t"},
		"spec": {"template": {"spec": {"containers": [with_cpu_limit("a", "64")]}}},
	}}
}
