package kubepolicy.security.host_port_test

import data.kubepolicy.security.host_port

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_host_port if {
	findings := host_port.violation with input as deployment({
		"containers": [
			{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 9090}, {"containerPort": 443, "hostPort": 8443}]},
			{"name": "b", "ports": [{"containerPort": 80}]},
			{"name": "c"},
		],
		"initContainers": [{"name": "init", "ports": [{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]}],
	})
	count(findings) == 3
	{f.path | some f in findings} == {
		"/spec/template/spec/containers/0/ports/0/hostPort",
		"/spec/template/spec/containers/0/ports/2/hostPort",
		"/spec/template/spec/initContainers/0/ports/0/hostPort",
	}
}

test_message_names_container_and_port if {
	findings := host_port.violation with input as deployment({"containers": [
		{"name": "a", "ports": [{"containerPort": 9090}, {"containerPort": 443, "hostPort": 8443}]},
	]})
	[f] := [f | some f in findings]
	f.msg == `container "a" of Deployment "web" binds host port 8443 (ports[1].hostPort, containerPort 443)`
}

test_fix_removes_the_host_port_of_that_port_only if {
	findings := host_port.violation with input as deployment({"containers": [
		{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 443, "hostPort": 8443}]},
	]})
	{f.fix | some f in findings} == {
		[{"op": "remove", "path": "/spec/template/spec/containers/0/ports/0/hostPort"}],
		[{"op": "remove", "path": "/spec/template/spec/containers/0/ports/1/hostPort"}],
	}
}

test_quiet_without_host_ports if {
	count(host_port.violation) == 0 with input as deployment({
		"containers": [{"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]}],
		"initContainers": [{"name": "init"}],
	})
}

test_quiet_for_non_workloads if {
	count(host_port.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": [{"name": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]}}}}}
}
