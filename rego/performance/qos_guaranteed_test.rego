package kubepolicy.performance.qos_guaranteed_test

import data.kubepolicy.performance.qos_guaranteed

deployment(pod_spec) := {"object": {
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": pod_spec}},
}}

production := {"environment": "production"}

guaranteed := {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1024Mi"}}

burstable := deployment({
	"containers": [
		{"name": "web", "resources": guaranteed},
		{"name": "sidecar", "resources": {"limits": {"cpu": "100m"}}},
		{"name": "cache", "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}},
	],
	"initContainers": [{"name": "setup", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
	"ephemeralContainers": [{"name": "debug"}],
})

test_fires_once_per_workload_naming_the_offending_containers if {
	findings := qos_guaranteed.violation with input as burstable with data.config as production
	findings == {{
		"msg": `Deployment "api" does not get the Guaranteed QoS class: CPU and memory requests must equal limits in container "cache", container "sidecar", init container "setup"`,
		"path": "/spec/template/spec",
	}}
}

test_fires_for_best_effort_pod if {
	findings := qos_guaranteed.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}}
		with data.config as production
	count(findings) == 1
	some f in findings
	f.path == "/spec"
}

# Requests equal limits by value (1 == 1000m, 1Gi == 1024Mi); a limit without a request counts as equal
# since Kubernetes copies it; ephemeral containers have no resources and do not count.
test_quiet_when_requests_equal_limits if {
	count(qos_guaranteed.violation) == 0 with data.config as production with input as deployment({
		"containers": [
			{"name": "web", "resources": guaranteed},
			{"name": "sidecar", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}},
			{"name": "mixed", "resources": {"requests": {"cpu": 0.5}, "limits": {"cpu": "500m", "memory": 134217728}}},
		],
		"initContainers": [{"name": "setup", "resources": {"limits": {"cpu": "1", "memory": "128Mi"}}}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_quiet_outside_production if {
	count(qos_guaranteed.violation) == 0 with input as burstable with data.config as {"environment": "staging"}
}

test_quiet_for_non_workloads if {
	count(qos_guaranteed.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}}}
		with data.config as production
}
