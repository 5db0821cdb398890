package kubepolicy.performance.cpu_limits_test

import data.kubepolicy.performance.cpu_limits

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}},
}}

mixed := deployment({
	"containers": [
		{"name": "bare", "image": "nginx"},
		{"name": "limited", "image": "nginx", "resources": {"limits": {"cpu": "1"}}},
		{"name": "small", "image": "nginx", "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "64Mi"}}},
	],
	"initContainers": [{"name": "warmup", "image": "busybox", "resources": {"requests": {"cpu": "2"}}}],
	"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
})

finding(findings, pointer) := f if {
	some f in findings
	startswith(f.path, pointer)
}

test_fires_once_per_container_without_cpu_limit if {
	findings := cpu_limits.violation with input as mixed
	count(findings) == 3
	{f.msg | some f in findings} == {
		`container "bare" of Deployment "api" has no CPU limit (resources.limits.cpu)`,
		`container "small" of Deployment "api" has no CPU limit (resources.limits.cpu)`,
		`init container "warmup" of Deployment "api" has no CPU limit (resources.limits.cpu)`,
	}
}

test_fix_creates_missing_resources if {
	f := finding(cpu_limits.violation, "/spec/template/spec/containers/0") with input as mixed
	f.path == "/spec/template/spec/containers/0"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"limits": {"cpu": "500m"}}}]
}

test_fix_adds_default_to_existing_limits_when_request_is_lower if {
	f := finding(cpu_limits.violation, "/spec/template/spec/containers/2") with input as mixed
	f.path == "/spec/template/spec/containers/2/resources/limits"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/2/resources/limits/cpu", "value": "500m"}]
}

# The default limit (500m) is below the request (2): a limit below the request is invalid, so the fix uses the request.
test_fix_uses_request_when_default_limit_is_below_it if {
	f := finding(cpu_limits.violation, "/spec/template/spec/initContainers/0") with input as mixed
	f.path == "/spec/template/spec/initContainers/0/resources"
	f.fix == [{"op": "add", "path": "/spec/template/spec/initContainers/0/resources/limits", "value": {"cpu": "2"}}]
}

test_fix_uses_configured_default if {
	f := finding(cpu_limits.violation, "/spec/template/spec/containers/0") with input as mixed
		with data.config as {"defaults": {"cpuLimit": "1500m"}}
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/resources", "value": {"limits": {"cpu": "1500m"}}}]
}

test_fix_uses_request_when_configured_default_is_below_it if {
	f := finding(cpu_limits.violation, "/spec/template/spec/containers/2") with input as mixed
		with data.config as {"defaults": {"cpuLimit": "0.2"}}
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/2/resources/limits/cpu", "value": "250m"}]
}

test_quiet_when_every_container_has_a_cpu_limit if {
	count(cpu_limits.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "resources": {"limits": {"cpu": "500m"}}}],
		"initContainers": [{"name": "i", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": 1}}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_quiet_for_non_workloads if {
	count(cpu_limits.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}}
}
