package kubepolicy.compliance.image_tag_latest_test

import data.kubepolicy.compliance.image_tag_latest

pod(spec) := {"object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tool", "namespace": "ops"}, "spec": spec}}

test_fires_once_per_untagged_or_latest_container if {
	findings := image_tag_latest.violation with input as pod({
		"containers": [
			{"name": "app", "image": "nginx"},
			{"name": "proxy", "image": "registry.acme.com:5000/team/proxy:latest"},
			{"name": "ok", "image": "nginx:1.25.3"},
		],
		"initContainers": [{"name": "setup", "image": "busybox:latest"}],
		"ephemeralContainers": [{"name": "debug", "image": "ghcr.io/acme/debug"}],
	})
	count(findings) == 4
	{f.path | some f in findings} == {
		"/spec/containers/0/image",
		"/spec/containers/1/image",
		"/spec/initContainers/0/image",
		"/spec/ephemeralContainers/0/image",
	}
	some untagged in findings
	untagged.path == "/spec/containers/0/image"
	untagged.msg == `container "app" of Pod "tool" uses image "nginx" without a tag (it resolves to latest)`
	some latest in findings
	latest.path == "/spec/initContainers/0/image"
	latest.msg == `init container "setup" of Pod "tool" uses image "busybox:latest" with the tag latest`
}

test_fires_for_latest_tag_next_to_a_digest if {
	count(image_tag_latest.violation) == 1 with input as pod({"containers": [{"name": "app", "image": "nginx:latest@sha256:0123abcd"}]})
}

test_quiet_for_version_tags_and_digest_pins if {
	count(image_tag_latest.violation) == 0 with input as pod({
		"containers": [
			{"name": "a", "image": "nginx:1.25.3"},
			{"name": "b", "image": "registry.acme.com:5000/team/app@sha256:0123abcd"},
			{"name": "c", "image": "nginx:stable"},
		],
		"initContainers": [{"name": "i", "image": "localhost:5000/setup:v2"}],
	})
}

test_quiet_for_non_workloads if {
	count(image_tag_latest.violation) == 0 with input as {"object": {"kind": "PodTemplate", "metadata": {"name": "t"}, "template": {"spec": {"containers": [{"name": "x", "image": "nginx"}]}}}}
}
