package kubepolicy.performance.memory_requests_test

import data.kubepolicy.performance.memory_requests

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}},
}}

mixed := deployment({
	"containers": [
		{"name": "bare", "image": "nginx"},
		{"name": "requested", "image": "nginx", "resources": {"requests": {"memory": "256Mi"}}},
		{"name": "limited", "image": "nginx", "resources": {"limits": {"memory": "64Mi"}}},
		{"name": "no-requests", "image": "nginx", "resources": {"limits": {"cpu": "1"}}},
	],
	"initContainers": [{"name": "setup", "image": "busybox", "resources": {"requests": {"cpu": "50m"}}}],
	"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
})

finding(findings, pointer) := f if {
	some f in findings
	startswith(f.path, pointer)
}

test_fires_once_per_container_without_memory_request if {
	findings := memory_requests.violation with input as mixed
	count(findings) == 3
	{f.msg | some f in findings} == {
		`container "bare" of Deployment "api" has no memory request (resources.requests.memory)`,
		`container "no-requests" of Deployment "api" has no memory request (resources.requests.memory)`,
		`init container "setup" of Deployment "api" has no memory request (resources.requests.memory)`,
	}
}

test_fix_creates_missing_resources if {
	f := finding(memory_requests.violation, "/spec/template/spec/containers/0") with input as mixed
	f.path == "/spec/template/spec/containers/0"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"requests": {"memory": "128Mi"}}}]
}

test_fix_creates_missing_requests if {
	f := finding(memory_requests.violation, "/spec/template/spec/containers/3") with input as mixed
	f.path == "/spec/template/spec/containers/3/resources"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/3/resources/requests", "value": {"memory": "128Mi"}}]
}

test_fix_adds_to_existing_requests_of_init_container if {
	f := finding(memory_requests.violation, "/spec/template/spec/initContainers/0") with input as mixed
	f.path == "/spec/template/spec/initContainers/0/resources/requests"
	f.fix == [{"op": "add", "path": "/spec/template/spec/initContainers/0/resources/requests/memory", "value": "128Mi"}]
}

test_fix_uses_configured_default if {
	f := finding(memory_requests.violation, "/spec/template/spec/containers/0") with input as mixed
		with data.config as {"defaults": {"memoryRequest": "256Mi"}}
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"requests": {"memory": "256Mi"}}}]
}

# A limit below the default request (64Mi < 128Mi) needs no fix: Kubernetes sets the request to the limit.
test_quiet_when_only_a_memory_limit_is_set if {
	count(memory_requests.violation) == 0 with input as deployment({"containers": [{"name": "limited", "resources": {"limits": {"memory": "64Mi"}}}]})
}

test_quiet_when_every_container_requests_memory if {
	count(memory_requests.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "resources": {"requests": {"memory": "1Gi"}}}],
		"initContainers": [{"name": "i", "resources": {"requests": {"memory": 134217728}}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_fires_for_bare_pod if {
	findings := memory_requests.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {}}]}}}
	[f] := [f | some f in findings]
	f.path == "/spec/containers/0/resources"
	f.fix == [{"op": "add", "path": "/spec/containers/0/resources/requests", "value": {"memory": "128Mi"}}]
}

test_quiet_for_non_workloads if {
	count(memory_requests.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}}
}
