package kubepolicy.compliance.allowed_registries_test

import data.kubepolicy.compliance.allowed_registries

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

registries := {"allowedRegistries": ["registry.acme.com", "gcr.io/acme/"]}

test_fires_once_per_container_from_another_registry if {
	findings := allowed_registries.violation with input as deployment({
		"containers": [
			{"name": "app", "image": "registry.acme.com/shop/web:1.2.3"},
			{"name": "sidecar", "image": "docker.io/envoyproxy/envoy:v1.30.1"},
		],
		"initContainers": [{"name": "setup", "image": "gcr.io/acmex/setup:1.0"}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
	})
		with data.config as registries
	count(findings) == 3
	paths := {f.path | some f in findings}
	paths == {
		"/spec/template/spec/containers/1/image",
		"/spec/template/spec/initContainers/0/image",
		"/spec/template/spec/ephemeralContainers/0/image",
	}
	some f in findings
	f.path == "/spec/template/spec/containers/1/image"
	f.msg == `container "sidecar" of Deployment "web" uses image "docker.io/envoyproxy/envoy:v1.30.1", which is not from an allowed registry (registry.acme.com, gcr.io/acme/)`
}

test_fires_for_registry_host_lookalike if {
	findings := allowed_registries.violation with input as deployment({"containers": [{"name": "app", "image": "registry.acme.com.evil.io/web:1"}]})
		with data.config as registries
	count(findings) == 1
}

test_quiet_when_every_image_is_from_an_allowed_registry if {
	count(allowed_registries.violation) == 0 with input as deployment({
		"containers": [
			{"name": "app", "image": "registry.acme.com/shop/web:1.2.3"},
			{"name": "port", "image": "registry.acme.com:443/x:1"},
		],
		"initContainers": [{"name": "setup", "image": "gcr.io/acme/setup@sha256:0123"}],
	})
		with data.config as {"allowedRegistries": ["registry.acme.com", "registry.acme.com:443", "gcr.io/acme"]}
	count(allowed_registries.not_evaluated) == 0 with input as deployment({"containers": [{"name": "app", "image": "registry.acme.com/web:1"}]})
		with data.config as registries
}

test_docker_hub_short_names_match_docker_io if {
	count(allowed_registries.violation) == 0 with input as deployment({"containers": [{"name": "app", "image": "nginx:1.25"}]})
		with data.config as {"allowedRegistries": ["docker.io/library"]}
}

test_not_evaluated_once_per_workload_when_the_list_is_empty if {
	input_object := deployment({"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "evil.io/x"}]})
	count(allowed_registries.violation) == 0 with input as input_object
	[reason] := [r | some r in allowed_registries.not_evaluated] with input as input_object
	reason.msg == `Deployment "web": config.allowedRegistries is empty, so image registries were not checked`
	count(allowed_registries.not_evaluated) == 1 with input as input_object with data.config as {"allowedRegistries": []}
}

test_quiet_for_non_workloads if {
	count(allowed_registries.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}}}
		with data.config as registries
	count(allowed_registries.not_evaluated) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}}}
}
