package kubepolicy.security.host_path_volume_test

import data.kubepolicy.security.host_path_volume

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_host_path_volume if {
	findings := host_path_volume.violation with input as deployment({
		"containers": [{"name": "a", "image": "nginx"}],
		"volumes": [
			{"name": "cache", "emptyDir": {}},
			{"name": "logs", "hostPath": {"path": "/var/log"}},
			{"name": "certs", "hostPath": {"path": "/etc/ssl/certs", "type": "Directory"}},
		],
	})
	count(findings) == 2
	paths := {f.path | some f in findings}
	paths == {"/spec/template/spec/volumes/1", "/spec/template/spec/volumes/2"}
	some f in findings
	f.msg == `Deployment "web" mounts hostPath volume "logs" (host path "/var/log")`
	object.keys(f) == {"msg", "path"}
}

test_fires_for_bare_pod if {
	findings := host_path_volume.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {"containers": [{"name": "c"}], "volumes": [{"name": "root", "hostPath": {"path": "/"}}]},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/volumes/0"
}

test_quiet_without_host_path if {
	count(host_path_volume.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "image": "nginx"}],
		"volumes": [
			{"name": "cache", "emptyDir": {}},
			{"name": "cfg", "configMap": {"name": "cfg"}},
			{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
		],
	})
}

test_quiet_for_non_workloads if {
	count(host_path_volume.violation) == 0 with input as {"object": {
		"kind": "PersistentVolume",
		"metadata": {"name": "pv"},
		"spec": {"hostPath": {"path": "/mnt/data"}},
	}}
}
