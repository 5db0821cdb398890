package kubepolicy.security.dangerous_capabilities_test

import data.kubepolicy.security.dangerous_capabilities

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

caps(added) := {"capabilities": {"add": added, "drop": ["ALL"]}}

test_fires_once_per_container_adding_dangerous_capabilities if {
	findings := dangerous_capabilities.violation with input as deployment({
		"containers": [
			{"name": "a", "securityContext": caps(["NET_BIND_SERVICE", "sys_admin", "CAP_NET_RAW", "CHOWN"])},
			{"name": "b", "securityContext": caps(["NET_BIND_SERVICE"])},
			{"name": "c"},
		],
		"initContainers": [{"name": "init", "securityContext": caps(["cap_bpf"])}],
	})
	count(findings) == 2
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0/securityContext/capabilities/add",
		"/spec/template/spec/initContainers/0/securityContext/capabilities/add",
	}
}

test_message_names_the_capabilities_found if {
	findings := dangerous_capabilities.violation with input as deployment({"containers": [
		{"name": "a", "securityContext": caps(["NET_BIND_SERVICE", "sys_admin", "CAP_NET_RAW", "CHOWN"])},
	]})
	[f] := [f | some f in findings]
	f.msg == `container "a" of Deployment "web" adds dangerous capabilities: sys_admin, CAP_NET_RAW (securityContext.capabilities.add)`
}

test_fix_replaces_the_list_keeping_the_others_in_order if {
	findings := dangerous_capabilities.violation with input as deployment({"containers": [
		{"name": "a", "securityContext": caps(["NET_BIND_SERVICE", "sys_admin", "CAP_NET_RAW", "CHOWN"])},
		{"name": "b", "securityContext": caps(["ALL", "Perfmon", "DAC_READ_SEARCH", "cap_sys_module", "NET_ADMIN", "SYS_PTRACE"])},
	]})
	fixes := {f.path: f.fix | some f in findings}
	fixes == {
		"/spec/template/spec/containers/0/securityContext/capabilities/add": [{"op": "replace", "path": "/spec/template/spec/containers/0/securityContext/capabilities/add", "value": ["NET_BIND_SERVICE", "CHOWN"]}],
		"/spec/template/spec/containers/1/securityContext/capabilities/add": [{"op": "replace", "path": "/spec/template/spec/containers/1/securityContext/capabilities/add", "value": []}],
	}
}

test_quiet_for_harmless_capabilities if {
	count(dangerous_capabilities.violation) == 0 with input as deployment({
		"containers": [
			{"name": "a", "securityContext": caps(["NET_BIND_SERVICE", "CAP_CHOWN"])},
			{"name": "b", "securityContext": {"capabilities": {"drop": ["ALL", "SYS_ADMIN"]}}},
		],
		"initContainers": [{"name": "init"}],
	})
}

test_quiet_for_non_workloads if {
	count(dangerous_capabilities.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x", "securityContext": caps(["SYS_ADMIN"])}]}}}}}
}
