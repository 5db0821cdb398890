package kubepolicy.security.proc_mount_test

import data.kubepolicy.security.proc_mount

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_unmasked_container if {
	findings := proc_mount.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx", "securityContext": {"procMount": "Unmasked"}},
			{"name": "b", "image": "nginx", "securityContext": {"procMount": "Default"}},
			{"name": "c", "image": "nginx"},
		],
		"initContainers": [{"name": "init", "image": "busybox", "securityContext": {"procMount": "Unmasked"}}],
	})
	count(findings) == 2
	some f in findings
	f.path == "/spec/template/spec/initContainers/0/securityContext/procMount"
	f.msg == `init container "init" of Deployment "web" sets securityContext.procMount: Unmasked`
}

test_fix_replaces_with_default if {
	findings := proc_mount.violation with input as deployment({"containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/containers/0/securityContext/procMount"
	f.fix == [{"op": "replace", "path": "/spec/template/spec/containers/0/securityContext/procMount", "value": "Default"}]
}

test_quiet_when_default_or_unset if {
	count(proc_mount.violation) == 0 with input as deployment({"containers": [
		{"name": "a", "securityContext": {"procMount": "Default"}},
		{"name": "b", "securityContext": {}},
		{"name": "c"},
	]})
}

test_quiet_for_non_workloads if {
	count(proc_mount.violation) == 0 with input as {"object": {"kind": "PodTemplate", "metadata": {"name": "t"}, "template": {"spec": {"containers": [{"name": "x", "securityContext": {"procMount": "Unmasked"}}]}}}}
}
