package kubepolicy.security.host_ipc_test

import data.kubepolicy.security.host_ipc

pod_spec := {
	"hostIPC": true,
	"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "nginx"}],
	"initContainers": [{"name": "init", "image": "busybox"}],
}

test_fires_once_per_workload if {
	findings := host_ipc.violation with input as {"object": {
		"kind": "DaemonSet",
		"metadata": {"name": "agent", "namespace": "ops"},
		"spec": {"template": {"spec": pod_spec}},
	}}
	count(findings) == 1
	[f] := [f | some f in findings]
	f.msg == `DaemonSet "agent" shares the host IPC namespace (hostIPC: true)`
	f.path == "/spec/template/spec/hostIPC"
	f.fix == [{"op": "remove", "path": "/spec/template/spec/hostIPC"}]
}

test_fix_removes_the_field_of_a_cronjob_pod_template if {
	findings := host_ipc.violation with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}},
	}}
	[f] := [f | some f in findings]
	f.fix == [{"op": "remove", "path": "/spec/jobTemplate/spec/template/spec/hostIPC"}]
}

test_fires_for_bare_pod if {
	findings := host_ipc.violation with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": pod_spec}}
	[f] := [f | some f in findings]
	f.path == "/spec/hostIPC"
}

test_quiet_when_hostipc_is_false_or_absent if {
	count(host_ipc.violation) == 0 with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": object.union(pod_spec, {"hostIPC": false})}}
	count(host_ipc.violation) == 0 with input as {"object": {"kind": "Pod", "metadata": {"name": "p"}, "spec": object.remove(pod_spec, ["hostIPC"])}}
}

test_quiet_for_non_workloads if {
	count(host_ipc.violation) == 0 with input as {"object": {"kind": "PodTemplate", "metadata": {"name": "t"}, "spec": pod_spec}}
}
