package kubepolicy.performance.memory_limits_test

import data.kubepolicy.performance.memory_limits

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}},
}}

mixed := deployment({
	"containers": [
		{"name": "bare", "image": "nginx"},
		{"name": "limited", "image": "nginx", "resources": {"limits": {"memory": "1Gi"}}},
		{"name": "small", "image": "nginx", "resources": {"requests": {"memory": "256Mi"}, "limits": {"cpu": "1"}}},
	],
	"initContainers": [{"name": "warmup", "image": "busybox", "resources": {"requests": {"memory": "1.5Gi"}}}],
	"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
})

finding(findings, pointer) := f if {
	some f in findings
	startswith(f.path, pointer)
}

test_fires_once_per_container_without_memory_limit if {
	findings := memory_limits.violation with input as mixed
	count(findings) == 3
	{f.msg | some f in findings} == {
		`container "bare" of Deployment "api" has no memory limit (resources.limits.memory)`,
		`container "small" of Deployment "api" has no memory limit (resources.limits.memory)`,
		`init container "warmup" of Deployment "api" has no memory limit (resources.limits.memory)`,
	}
}

test_fix_creates_missing_resources if {
	f := finding(memory_limits.violation, "/spec/template/spec/containers/0") with input as mixed
	f.path == "/spec/template/spec/containers/0"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"limits": {"memory": "512Mi"}}}]
}

test_fix_adds_default_to_existing_limits_when_request_is_lower if {
	f := finding(memory_limits.violation, "/spec/template/spec/containers/2") with input as mixed
	f.path == "/spec/template/spec/containers/2/resources/limits"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/2/resources/limits/memory", "value": "512Mi"}]
}

# The default limit (512Mi) is below the request (1.5Gi): a limit below the request is invalid, so the fix uses the request.
test_fix_uses_request_when_default_limit_is_below_it if {
	f := finding(memory_limits.violation, "/spec/template/spec/initContainers/0") with input as mixed
	f.path == "/spec/template/spec/initContainers/0/resources"
	f.fix == [{"op": "add", "path": "/spec/template/spec/initContainers/0/resources/limits", "value": {"memory": "1.5Gi"}}]
}

test_fix_uses_configured_default if {
	f := finding(memory_limits.violation, "/spec/template/spec/containers/0") with input as mixed
		with data.config as {"defaults": {"memoryLimit": "2Gi"}}
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"limits": {"memory": "2Gi"}}}]
}

test_fix_uses_request_when_configured_default_is_below_it if {
	f := finding(memory_limits.violation, "/spec/template/spec/containers/2") with input as mixed
		with data.config as {"defaults": {"memoryLimit": "200M"}}
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/2/resources/limits/memory", "value": "256Mi"}]
}

test_quiet_when_every_container_has_a_memory_limit if {
	count(memory_limits.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "resources": {"limits": {"memory": "512Mi"}}}],
		"initContainers": [{"name": "i", "resources": {"requests": {"memory": "128Mi"}, "limits": {"memory": 1073741824}}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_quiet_for_non_workloads if {
	count(memory_limits.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}}
}
