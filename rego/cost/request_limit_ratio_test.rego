package kubepolicy.cost.request_limit_ratio_test

import data.kubepolicy.cost.request_limit_ratio

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

container(name, requests, limits) := {"name": name, "image": "nginx:1.25", "resources": {"requests": requests, "limits": limits}}

test_fires_once_per_container_and_resource if {
	findings := request_limit_ratio.violation with input as deployment({
		"containers": [
			# cpu 10x and memory 8x: two findings
			container("both", {"cpu": "100m", "memory": "256Mi"}, {"cpu": "1", "memory": "2Gi"}),
			# cpu exactly 4x: fine
			container("edge", {"cpu": "250m"}, {"cpu": "1"}),
		],
		"initContainers": [container("setup", {"memory": "64Mi"}, {"memory": "1Gi"})],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0/resources/limits/cpu",
		"/spec/template/spec/containers/0/resources/limits/memory",
		"/spec/template/spec/initContainers/0/resources/limits/memory",
	}
	some f in findings
	f.msg == `container "both" of Deployment "web" has a cpu limit/request ratio of 10 (limit 1, request 100m), above the maximum of 4`
}

test_message_rounds_the_ratio if {
	[f] := [f | some f in request_limit_ratio.violation] with input as deployment({"containers": [container("a", {"cpu": "300m"}, {"cpu": "2"})]})
	f.msg == `container "a" of Deployment "web" has a cpu limit/request ratio of 6.7 (limit 2, request 300m), above the maximum of 4`
}

test_honours_configured_ratio if {
	count(request_limit_ratio.violation) == 1 with input as deployment({"containers": [container("a", {"cpu": "500m"}, {"cpu": "1"})]})
		with data.config as {"maxLimitRequestRatio": 1.5}
}

test_quiet_without_both_request_and_limit if {
	count(request_limit_ratio.violation) == 0 with input as deployment({"containers": [
		{"name": "a", "image": "nginx:1.25", "resources": {"limits": {"cpu": "4", "memory": "8Gi"}}},
		{"name": "b", "image": "nginx:1.25", "resources": {"requests": {"cpu": "10m"}}},
		{"name": "c", "image": "nginx:1.25"},
		container("d", {"cpu": "1", "memory": "1Gi"}, {"cpu": "2", "memory": "1Gi"}),
	]})
}

test_quiet_for_zero_request_and_unparsable_quantities if {
	count(request_limit_ratio.violation) == 0 with input as deployment({"containers": [
		container("zero", {"cpu": "0", "memory": 0}, {"cpu": "4", "memory": "1Gi"}),
		container("garbage", {"cpu": "a little"}, {"cpu": "4"}),
		container("garbage-limit", {"memory": "1Mi"}, {"memory": "loads"}),
	]})
}
