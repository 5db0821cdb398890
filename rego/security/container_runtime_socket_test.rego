package kubepolicy.security.container_runtime_socket_test

import data.kubepolicy.security.container_runtime_socket

daemonset(volumes) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "agent", "namespace": "ops"},
	"spec": {"template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
		"containers": [{"name": "agent", "image": "agent:1.0"}],
		"volumes": volumes,
	}}},
}}

test_fires_once_per_runtime_socket if {
	findings := container_runtime_socket.violation with input as daemonset([
		{"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
		{"name": "logs", "hostPath": {"path": "/var/log"}},
		{"name": "containerd", "hostPath": {"path": "/run/containerd/containerd.sock"}},
		{"name": "crio", "hostPath": {"path": "/var/run/crio/crio.sock"}},
	])
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/volumes/0/hostPath/path",
		"/spec/template/spec/volumes/2/hostPath/path",
		"/spec/template/spec/volumes/3/hostPath/path",
	}
	some f in findings
	f.msg == `DaemonSet "agent" mounts the container runtime socket "/var/run/docker.sock" through hostPath volume "docker"`
	object.keys(f) == {"msg", "path"}
}

test_fires_with_trailing_slash if {
	count(container_runtime_socket.violation) == 1 with input as daemonset([{"name": "d", "hostPath": {"path": "/var/run/docker.sock/"}}])
}

test_quiet_for_other_host_paths if {
	count(container_runtime_socket.violation) == 0 with input as daemonset([
		{"name": "run", "hostPath": {"path": "/var/run"}},
		{"name": "containerd", "hostPath": {"path": "/run/containerd"}},
		{"name": "lookalike", "hostPath": {"path": "/data/docker.socket"}},
		{"name": "other", "hostPath": {"path": "/var/run/my-docker.sock.bak"}},
		{"name": "cache", "emptyDir": {}},
	])
}

test_quiet_for_non_workloads if {
	count(container_runtime_socket.violation) == 0 with input as {"object": {
		"kind": "PersistentVolume",
		"metadata": {"name": "pv"},
		"spec": {"hostPath": {"path": "/var/run/docker.sock"}},
	}}
}
