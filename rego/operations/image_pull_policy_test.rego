package kubepolicy.operations.image_pull_policy_test

import data.kubepolicy.operations.image_pull_policy

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_mutable_image_not_always_pulled if {
	findings := image_pull_policy.violation with input as deployment({
		"containers": [
			{"name": "explicit", "image": "nginx:latest", "imagePullPolicy": "IfNotPresent"},
			{"name": "defaulted", "image": "nginx:stable"},
			{"name": "never", "image": "redis", "imagePullPolicy": "Never"},
			{"name": "always", "image": "nginx:stable", "imagePullPolicy": "Always"},
			{"name": "latest-default", "image": "nginx:latest"},
			{"name": "untagged-default", "image": "nginx"},
			{"name": "versioned", "image": "nginx:1.25.3", "imagePullPolicy": "IfNotPresent"},
			{"name": "digest", "image": "nginx:stable@sha256:0123abcd", "imagePullPolicy": "IfNotPresent"},
		],
		"initContainers": [{"name": "setup", "image": "busybox:musl", "imagePullPolicy": "IfNotPresent"}],
	})
	count(findings) == 4
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0/imagePullPolicy",
		"/spec/template/spec/containers/1",
		"/spec/template/spec/containers/2/imagePullPolicy",
		"/spec/template/spec/initContainers/0/imagePullPolicy",
	}
}

test_fix_sets_always_on_explicit_policy if {
	[f] := [f | some f in image_pull_policy.violation] with input as deployment({"containers": [{"name": "a", "image": "nginx:latest", "imagePullPolicy": "IfNotPresent"}]})
	f.msg == `container "a" of Deployment "web" runs mutable image "nginx:latest" with imagePullPolicy IfNotPresent`
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Always"}]
}

test_fix_adds_always_when_policy_defaults_to_if_not_present if {
	[f] := [f | some f in image_pull_policy.violation] with input as deployment({"containers": [{"name": "a", "image": "ghcr.io/acme/web:main"}]})
	f.msg == `container "a" of Deployment "web" runs mutable image "ghcr.io/acme/web:main" with imagePullPolicy unset, which defaults to IfNotPresent for this tag`
	f.path == "/spec/template/spec/containers/0"
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Always"}]
}

test_quiet_for_pinned_or_always_pulled_images if {
	count(image_pull_policy.violation) == 0 with input as deployment({"containers": [
		{"name": "a", "image": "nginx:1.25.3"},
		{"name": "b", "image": "nginx:latest"},
		{"name": "c", "image": "nginx"},
		{"name": "d", "image": "nginx:stable", "imagePullPolicy": "Always"},
		{"name": "e", "image": "nginx@sha256:0123abcd", "imagePullPolicy": "IfNotPresent"},
	]})
}

test_quiet_for_non_workloads if {
	count(image_pull_policy.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"containers": [{"name": "x", "image": "nginx:stable"}]}}}
}
