package kubepolicy.security.privileged_container_test

import data.kubepolicy.security.privileged_container

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_privileged_container if {
	findings := privileged_container.violation with input as deployment({
		"containers": [
			{"name": "a", "image": "nginx", "securityContext": {"privileged": true}},
			{"name": "b", "image": "nginx"},
		],
		"initContainers": [{"name": "init", "image": "busybox", "securityContext": {"privileged": true}}],
	})
	count(findings) == 2
	some f in findings
	f.path == "/spec/template/spec/initContainers/0/securityContext/privileged"
	f.fix == [{"op": "replace", "path": f.path, "value": false}]
}

test_fires_for_cronjob_pod_template if {
	findings := privileged_container.violation with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "securityContext": {"privileged": true}}]}}}}},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/privileged"
}

test_quiet_when_not_privileged if {
	count(privileged_container.violation) == 0 with input as deployment({"containers": [
		{"name": "a", "image": "nginx", "securityContext": {"privileged": false}},
		{"name": "b", "image": "nginx"},
	]})
}

test_quiet_for_non_workloads if {
	count(privileged_container.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x", "securityContext": {"privileged": true}}]}}}}}
}
