package kubepolicy.security.read_only_root_filesystem_test

import data.kubepolicy.security.read_only_root_filesystem

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_writable_container if {
	findings := read_only_root_filesystem.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx", "securityContext": {"readOnlyRootFilesystem": true}},
			{"name": "b", "image": "nginx", "securityContext": {"readOnlyRootFilesystem": false}},
			{"name": "c", "image": "nginx"},
		],
		"initContainers": [{"name": "init", "image": "busybox", "securityContext": {"runAsNonRoot": true}}],
	})
	count(findings) == 3
	fixes := {f.path: f.fix | some f in findings}
	fixes == {
		"/spec/template/spec/containers/1/securityContext/readOnlyRootFilesystem": [{"op": "add", "path": "/spec/template/spec/containers/1/securityContext/readOnlyRootFilesystem", "value": true}],
		"/spec/template/spec/containers/2": [{"op": "add", "path": "/spec/template/spec/containers/2/securityContext", "value": {"readOnlyRootFilesystem": true}}],
		"/spec/template/spec/initContainers/0/securityContext": [{"op": "add", "path": "/spec/template/spec/initContainers/0/securityContext/readOnlyRootFilesystem", "value": true}],
	}
}

test_message_names_container_and_field if {
	findings := read_only_root_filesystem.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "web"}]}}}
	[f] := [f | some f in findings]
	f.msg == `container "web" of Pod "p" does not set securityContext.readOnlyRootFilesystem: true`
}

test_quiet_when_root_filesystems_are_read_only if {
	count(read_only_root_filesystem.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "securityContext": {"readOnlyRootFilesystem": true}}],
		"initContainers": [{"name": "init", "securityContext": {"readOnlyRootFilesystem": true}}],
	})
}

test_quiet_for_non_workloads if {
	count(read_only_root_filesystem.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}}}
}

test_quiet_for_windows_pods if {
	count(read_only_root_filesystem.violation) == 0 with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "win"},
		"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]},
	}}
}
