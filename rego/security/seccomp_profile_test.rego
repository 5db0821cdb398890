package kubepolicy.security.seccomp_profile_test

import data.kubepolicy.security.seccomp_profile

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

pod_fix := [{
	"op": "add",
	"path": "/spec/template/spec/securityContext",
	"value": {"seccompProfile": {"type": "RuntimeDefault"}},
}]

test_fires_once_per_container_without_profile if {
	findings := seccomp_profile.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx"},
			{"name": "b", "image": "nginx", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
			{"name": "c", "image": "nginx", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}},
		],
		"initContainers": [{"name": "init", "image": "busybox"}],
	})
	count(findings) == 2
	{f.path | some f in findings} == {"/spec/template/spec/containers/0", "/spec/template/spec/initContainers/0"}
	some f in findings
	f.msg == `container "a" of Deployment "web" has no RuntimeDefault or Localhost seccomp profile (neither the pod nor the container sets securityContext.seccompProfile)`
}

test_fix_sets_the_pod_profile_once_for_all_containers if {
	findings := seccomp_profile.violation with input as deployment({"containers": [{"name": "a"}, {"name": "b"}]})
	count(findings) == 2
	every f in findings {
		f.fix == pod_fix
	}
}

test_fix_adds_to_an_existing_pod_security_context if {
	findings := seccomp_profile.violation with input as deployment({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "a"}],
	})
	[f] := [f | some f in findings]
	f.fix == [{"op": "add", "path": "/spec/template/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}]
}

test_pod_unconfined_fires_for_inheriting_containers if {
	findings := seccomp_profile.violation with input as deployment({
		"securityContext": {"seccompProfile": {"type": "Unconfined"}},
		"containers": [
			{"name": "a"},
			{"name": "b", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
		],
	})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/securityContext/seccompProfile/type"
	f.msg == `container "a" of Deployment "web" has no RuntimeDefault or Localhost seccomp profile (the pod sets securityContext.seccompProfile.type: Unconfined)`
	f.fix == [{"op": "add", "path": "/spec/template/spec/securityContext/seccompProfile/type", "value": "RuntimeDefault"}]
}

test_container_unconfined_overrides_pod_profile_and_is_fixed_on_the_container if {
	findings := seccomp_profile.violation with input as deployment({
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [
			{"name": "a"},
			{"name": "debug", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
		],
	})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/containers/1/securityContext/seccompProfile/type"
	f.msg == `container "debug" of Deployment "web" sets securityContext.seccompProfile.type: Unconfined`
	f.fix == [{"op": "replace", "path": f.path, "value": "RuntimeDefault"}]
}

test_mixed_containers_get_non_conflicting_fixes if {
	findings := seccomp_profile.violation with input as deployment({"containers": [
		{"name": "a"},
		{"name": "b", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
	]})
	count(findings) == 2
	ops := {op | some f in findings; some op in f.fix}
	ops == {
		{"op": "add", "path": "/spec/template/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}},
		{"op": "replace", "path": "/spec/template/spec/containers/1/securityContext/seccompProfile/type", "value": "RuntimeDefault"},
	}
}

test_quiet_with_pod_runtime_default if {
	count(seccomp_profile.violation) == 0 with input as deployment({
		"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [{"name": "a"}, {"name": "b", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "x.json"}}}],
		"initContainers": [{"name": "i"}],
	})
}

test_quiet_for_windows_pods if {
	count(seccomp_profile.violation) == 0 with input as deployment({"os": {"name": "windows"}, "containers": [{"name": "a"}]})
}

test_quiet_for_non_workloads if {
	count(seccomp_profile.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}}
}
