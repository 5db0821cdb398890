package kubepolicy.compliance.image_digest_test

import data.kubepolicy.compliance.image_digest

daemonset(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "agent", "namespace": "monitoring"},
	"spec": {"template": {"spec": pod_spec}},
}}

digest := "sha256:4f1c9e2b6a0d7e3f8c5b1a9d2e6f0c3b7a4d8e1f5c9b2a6d0e3f7c1b5a8d4e2f"

test_fires_once_per_container_not_pinned_by_digest if {
	findings := image_digest.violation with input as daemonset({
		"containers": [
			{"name": "agent", "image": "registry.acme.com/agent:1.4.2"},
			{"name": "pinned", "image": concat("@", ["registry.acme.com/agent:1.4.2", digest])},
		],
		"initContainers": [{"name": "setup", "image": "busybox@md5:0123"}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox"}],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0/image",
		"/spec/template/spec/initContainers/0/image",
		"/spec/template/spec/ephemeralContainers/0/image",
	}
	some f in findings
	f.path == "/spec/template/spec/containers/0/image"
	f.msg == `container "agent" of DaemonSet "agent" uses image "registry.acme.com/agent:1.4.2", which is not pinned by an @sha256 digest`
}

test_quiet_when_every_image_is_pinned if {
	count(image_digest.violation) == 0 with input as daemonset({
		"containers": [{"name": "agent", "image": concat("@", ["registry.acme.com/agent", digest])}],
		"initContainers": [{"name": "setup", "image": concat("@", ["busybox:1.36", digest])}],
	})
}

test_quiet_for_non_workloads if {
	count(image_digest.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"image": "nginx"}}}
}
