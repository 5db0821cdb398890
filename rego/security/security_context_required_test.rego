package kubepolicy.security.security_context_required_test

import data.kubepolicy.security.security_context_required

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_container_without_security_context if {
	findings := security_context_required.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx"},
			{"name": "b", "image": "nginx", "securityContext": {"runAsNonRoot": true}},
			{"name": "c", "image": "nginx", "securityContext": null},
		],
		"initContainers": [{"name": "init", "image": "busybox"}],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0",
		"/spec/template/spec/containers/2",
		"/spec/template/spec/initContainers/0",
	}
}

test_fix_adds_the_restricted_context if {
	findings := security_context_required.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {"containers": [{"name": "a", "securityContext": {}}, {"name": "b"}]},
	}}
	[f] := [f | some f in findings]
	f.msg == `container "b" of Pod "p" has no securityContext`
	f.fix == [{"op": "add", "path": "/spec/containers/1/securityContext", "value": {
		"allowPrivilegeEscalation": false,
		"runAsNonRoot": true,
		"capabilities": {"drop": ["ALL"]},
		"seccompProfile": {"type": "RuntimeDefault"},
	}}]
}

test_quiet_when_every_container_has_a_security_context if {
	count(security_context_required.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}],
		"initContainers": [{"name": "init", "securityContext": {}}],
	})
}

test_quiet_for_non_workloads if {
	count(security_context_required.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}}
}

test_fires_without_fix_for_windows_pods if {
	findings := security_context_required.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "win"},
		"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]},
	}}
	[f] := [f | some f in findings]
	not f.fix
}
