package kubepolicy.security.drop_all_capabilities_test

import data.kubepolicy.security.drop_all_capabilities

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_container_not_dropping_all if {
	findings := drop_all_capabilities.violation with input as deployment({
		"containers": [
			{"name": "a", "securityContext": {"capabilities": {"drop": ["ALL"]}}},
			{"name": "b", "securityContext": {"capabilities": {"drop": ["NET_RAW"]}}},
			{"name": "c", "securityContext": {"capabilities": {"drop": ["all"]}}},
			{"name": "d"},
		],
		"initContainers": [{"name": "init", "securityContext": {"capabilities": {"add": ["CHOWN"]}}}],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/1/securityContext/capabilities/drop",
		"/spec/template/spec/containers/3",
		"/spec/template/spec/initContainers/0/securityContext/capabilities",
	}
}

test_fix_appends_to_an_existing_drop_list if {
	findings := drop_all_capabilities.violation with input as deployment({"containers": [{"name": "b", "securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}]})
	[f] := [f | some f in findings]
	f.fix == [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext/capabilities/drop/-", "value": "ALL"}]
	f.msg == `container "b" of Deployment "web" does not drop ALL capabilities (securityContext.capabilities.drop)`
}

test_fix_creates_the_drop_list_and_its_parents if {
	findings := drop_all_capabilities.violation with input as deployment({
		"containers": [{"name": "d"}, {"name": "e", "securityContext": {"runAsNonRoot": true}}],
		"initContainers": [{"name": "init", "securityContext": {"capabilities": {"add": ["CHOWN"]}}}],
	})
	fixes := {f.path: f.fix | some f in findings}
	fixes == {
		"/spec/template/spec/containers/0": [{"op": "add", "path": "/spec/template/spec/containers/0/securityContext", "value": {"capabilities": {"drop": ["ALL"]}}}],
		"/spec/template/spec/containers/1/securityContext": [{"op": "add", "path": "/spec/template/spec/containers/1/securityContext/capabilities", "value": {"drop": ["ALL"]}}],
		"/spec/template/spec/initContainers/0/securityContext/capabilities": [{"op": "add", "path": "/spec/template/spec/initContainers/0/securityContext/capabilities/drop", "value": ["ALL"]}],
	}
}

test_quiet_when_all_capabilities_are_dropped if {
	count(drop_all_capabilities.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "securityContext": {"capabilities": {"drop": ["NET_RAW", "All"], "add": ["NET_BIND_SERVICE"]}}}],
		"initContainers": [{"name": "init", "securityContext": {"capabilities": {"drop": ["ALL"]}}}],
	})
}

test_quiet_for_non_workloads if {
	count(drop_all_capabilities.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}}}
}

test_quiet_for_windows_pods if {
	count(drop_all_capabilities.violation) == 0 with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "win"},
		"spec": {"os": {"name": "windows"}, "containers": [{"name": "a"}]},
	}}
}
