package kubepolicy.security.run_as_non_root_test

import data.kubepolicy.security.run_as_non_root

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

by_path(findings) := {f.path: f | some f in findings}

test_fires_once_per_container_without_run_as_non_root if {
	findings := run_as_non_root.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx"},
			{"name": "b", "image": "nginx", "securityContext": {"runAsNonRoot": true}},
			{"name": "c", "image": "nginx", "securityContext": {"runAsNonRoot": false}},
		],
		"initContainers": [{"name": "init", "image": "busybox", "securityContext": {"readOnlyRootFilesystem": true}}],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0",
		"/spec/template/spec/containers/2/securityContext/runAsNonRoot",
		"/spec/template/spec/initContainers/0/securityContext",
	}
}

test_fix_sets_run_as_non_root_on_the_container if {
	findings := by_path(run_as_non_root.violation) with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx"},
			{"name": "c", "image": "nginx", "securityContext": {"runAsNonRoot": false}},
		],
		"initContainers": [{"name": "init", "image": "busybox", "securityContext": {"readOnlyRootFilesystem": true}}],
	})
	findings["/spec/template/spec/containers/0"].fix == [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext", "value": {"runAsNonRoot": true}}]
	findings["/spec/template/spec/containers/1/securityContext/runAsNonRoot"].fix == [{"op": "add", "path": "/spec/template/spec/containers/1/securityContext/runAsNonRoot", "value": true}]
	findings["/spec/template/spec/initContainers/0/securityContext"].fix == [{"op": "add", "path": "/spec/template/spec/initContainers/0/securityContext/runAsNonRoot", "value": true}]
	findings["/spec/template/spec/containers/0"].msg == `container "a" of Deployment "web" does not set securityContext.runAsNonRoot: true (neither the container nor the pod does)`
}

test_pod_level_run_as_non_root_covers_containers if {
	count(run_as_non_root.violation) == 0 with input as deployment({
		"securityContext": {"runAsNonRoot": true, "runAsUser": 1000},
		"containers": [{"name": "a"}, {"name": "b", "securityContext": {"allowPrivilegeEscalation": false}}],
		"initContainers": [{"name": "init"}],
	})
}

test_container_value_overrides_pod_value if {
	findings := run_as_non_root.violation with input as deployment({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsNonRoot": false}}],
	})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/containers/1/securityContext/runAsNonRoot"
	count(run_as_non_root.violation) == 0 with input as deployment({
		"securityContext": {"runAsNonRoot": false},
		"containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}],
	})
}

test_fires_for_container_run_as_user_zero if {
	findings := run_as_non_root.violation with input as deployment({
		"securityContext": {"runAsNonRoot": true, "runAsUser": 1000},
		"containers": [{"name": "a", "securityContext": {"runAsUser": 0}}, {"name": "b"}],
		"initContainers": [{"name": "init", "securityContext": {"runAsUser": 0, "runAsNonRoot": false}}],
	})
	count(findings) == 2
	fixes := {f.path: f.fix | some f in findings}

	# Dropping runAsUser: 0 lets the pod's UID 1000 apply; runAsNonRoot already comes from the pod.
	fixes["/spec/template/spec/containers/0/securityContext/runAsUser"] == [{"op": "remove", "path": "/spec/template/spec/containers/0/securityContext/runAsUser"}]
	fixes["/spec/template/spec/initContainers/0/securityContext/runAsUser"] == [
		{"op": "remove", "path": "/spec/template/spec/initContainers/0/securityContext/runAsUser"},
		{"op": "add", "path": "/spec/template/spec/initContainers/0/securityContext/runAsNonRoot", "value": true},
	]
}

test_pod_run_as_user_zero_fires_without_fix if {
	findings := run_as_non_root.violation with input as deployment({
		"securityContext": {"runAsNonRoot": true, "runAsUser": 0},
		"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsUser": 1000}}],
		"initContainers": [{"name": "init", "securityContext": {"runAsUser": 0}}],
	})
	count(findings) == 2
	some a in findings
	a.msg == `container "a" of Deployment "web" runs as root (pod securityContext.runAsUser: 0)`
	a.path == "/spec/template/spec/securityContext/runAsUser"
	not a.fix
	some i in findings
	i.path == "/spec/template/spec/initContainers/0/securityContext/runAsUser"
	not i.fix
}

test_quiet_for_non_workloads if {
	count(run_as_non_root.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}}
}
