package kubepolicy.security.privilege_escalation_test

import data.kubepolicy.security.privilege_escalation

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_container_not_setting_false if {
	findings := privilege_escalation.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx", "securityContext": {"allowPrivilegeEscalation": true}},
			{"name": "b", "image": "nginx", "securityContext": {"allowPrivilegeEscalation": false}},
			{"name": "c", "image": "nginx", "securityContext": {"runAsNonRoot": true}},
		],
		"initContainers": [{"name": "init", "image": "busybox"}],
	})
	count(findings) == 3
	paths := {f.path | some f in findings}
	paths == {
		"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
		"/spec/template/spec/containers/2/securityContext",
		"/spec/template/spec/initContainers/0",
	}
}

test_fix_sets_false_creating_missing_parents if {
	findings := privilege_escalation.violation with input as deployment({
		"containers": [
			{"name": "a", "securityContext": {"allowPrivilegeEscalation": true}},
			{"name": "c", "securityContext": {"runAsNonRoot": true}},
		],
		"initContainers": [{"name": "init"}],
	})
	fixes := {f.path: f.fix | some f in findings}
	fixes["/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"] == [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation", "value": false}]
	fixes["/spec/template/spec/containers/1/securityContext"] == [{"op": "add", "path": "/spec/template/spec/containers/1/securityContext/allowPrivilegeEscalation", "value": false}]
	fixes["/spec/template/spec/initContainers/0"] == [{"op": "add", "path": "/spec/template/spec/initContainers/0/securityContext", "value": {"allowPrivilegeEscalation": false}}]
}

test_message_names_container_and_field if {
	findings := privilege_escalation.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"ephemeralContainers": [{"name": "debug"}]}}}
	[f] := [f | some f in findings]
	f.msg == `ephemeral container "debug" of Pod "p" does not set securityContext.allowPrivilegeEscalation: false`
	f.path == "/spec/ephemeralContainers/0"
}

test_quiet_when_every_container_sets_false if {
	count(privilege_escalation.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false}}],
		"initContainers": [{"name": "init", "securityContext": {"allowPrivilegeEscalation": false}}],
	})
}

test_quiet_for_non_workloads if {
	count(privilege_escalation.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}}
}

test_no_fix_while_the_container_is_privileged if {
	findings := privilege_escalation.violation with input as {"object": {
		"kind": "Deployment",
		"metadata": {"name": "web"},
		"spec": {"template": {"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}},
	}}
	[f] := [f | some f in findings]
	not f.fix
}

test_quiet_for_windows_pods if {
	count(privilege_escalation.violation) == 0 with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "win"},
		"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]},
	}}
}
