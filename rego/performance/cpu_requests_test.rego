package kubepolicy.performance.cpu_requests_test

import data.kubepolicy.performance.cpu_requests

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}},
}}

mixed := deployment({
	"containers": [
		{"name": "bare", "image": "nginx"},
		{"name": "requested", "image": "nginx", "resources": {"requests": {"cpu": "250m"}}},
		{"name": "limited", "image": "nginx", "resources": {"limits": {"cpu": "50m"}}},
		{"name": "no-requests", "image": "nginx", "resources": {"limits": {"memory": "64Mi"}}},
	],
	"initContainers": [{"name": "setup", "image": "busybox", "resources": {"requests": {"memory": "64Mi"}}}],
	"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
})

finding(findings, pointer) := f if {
	some f in findings
	startswith(f.path, pointer)
}

test_fires_once_per_container_without_cpu_request if {
	findings := cpu_requests.violation with input as mixed
	count(findings) == 3
	{f.msg | some f in findings} == {
		`container "bare" of Deployment "api" has no CPU request (resources.requests.cpu)`,
		`container "no-requests" of Deployment "api" has no CPU request (resources.requests.cpu)`,
		`init container "setup" of Deployment "api" has no CPU request (resources.requests.cpu)`,
	}
}

test_fix_creates_missing_resources if {
	f := finding(cpu_requests.violation, "/spec/template/spec/containers/0") with input as mixed
	f.path == "/spec/template/spec/containers/0"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"requests": {"cpu": "100m"}}}]
}

test_fix_creates_missing_requests if {
	f := finding(cpu_requests.violation, "/spec/template/spec/containers/3") with input as mixed
	f.path == "/spec/template/spec/containers/3/resources"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/3/resources/requests", "value": {"cpu": "100m"}}]
}

test_fix_adds_to_existing_requests_of_init_container if {
	f := finding(cpu_requests.violation, "/spec/template/spec/initContainers/0") with input as mixed
	f.path == "/spec/template/spec/initContainers/0/resources/requests"
	f.fix == [{"op": "add", "path": "/spec/template/spec/initContainers/0/resources/requests/cpu", "value": "100m"}]
}

test_fix_uses_configured_default if {
	f := finding(cpu_requests.violation, "/spec/template/spec/containers/0") with input as mixed
		with data.config as {"defaults": {"cpuRequest": "250m"}}
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"requests": {"cpu": "250m"}}}]
}

# A limit below the default request (50m < 100m) needs no fix: Kubernetes sets the request to the limit.
test_quiet_when_only_a_cpu_limit_is_set if {
	count(cpu_requests.violation) == 0 with input as deployment({"containers": [{"name": "limited", "resources": {"limits": {"cpu": "50m"}}}]})
}

test_quiet_when_every_container_requests_cpu if {
	count(cpu_requests.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "resources": {"requests": {"cpu": "0.5"}}}],
		"initContainers": [{"name": "i", "resources": {"requests": {"cpu": 1}}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_fires_for_bare_pod if {
	findings := cpu_requests.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {}}]}}}
	[f] := [f | some f in findings]
	f.path == "/spec/containers/0/resources"
	f.fix == [{"op": "add", "path": "/spec/containers/0/resources/requests", "value": {"cpu": "100m"}}]
}

test_quiet_for_non_workloads if {
	count(cpu_requests.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}}
}
