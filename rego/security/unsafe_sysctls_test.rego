package kubepolicy.security.unsafe_sysctls_test

import data.kubepolicy.security.unsafe_sysctls

deployment(sysctls) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
		"securityContext": {"sysctls": sysctls},
		"containers": [{"name": "a", "image": "nginx"}],
	}}},
}}

test_fires_once_per_unsafe_sysctl if {
	findings := unsafe_sysctls.violation with input as deployment([
		{"name": "net.ipv4.tcp_syncookies", "value": "1"},
		{"name": "kernel.msgmax", "value": "65536"},
		{"name": "net.core.somaxconn", "value": "1024"},
		{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
	])
	count(findings) == 2
	{f.path | some f in findings} == {
		"/spec/template/spec/securityContext/sysctls/1",
		"/spec/template/spec/securityContext/sysctls/2",
	}
	some f in findings
	f.msg == `Deployment "web" sets unsafe sysctl kernel.msgmax in securityContext.sysctls`
	object.keys(f) == {"msg", "path"}
}

test_fires_for_cronjob if {
	findings := unsafe_sysctls.violation with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {
			"securityContext": {"sysctls": [{"name": "vm.swappiness", "value": "10"}]},
			"containers": [{"name": "c"}],
		}}}}},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/jobTemplate/spec/template/spec/securityContext/sysctls/0"
}

test_quiet_for_safe_sysctls if {
	count(unsafe_sysctls.violation) == 0 with input as deployment([
		{"name": "kernel.shm_rmid_forced", "value": "1"},
		{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"},
		{"name": "net.ipv4.ip_local_reserved_ports", "value": "8080"},
		{"name": "net.ipv4.ping_group_range", "value": "0 2147483647"},
		{"name": "net.ipv4.tcp_keepalive_time", "value": "600"},
		{"name": "net.ipv4.tcp_fin_timeout", "value": "30"},
		{"name": "net.ipv4.tcp_keepalive_intvl", "value": "60"},
		{"name": "net.ipv4.tcp_keepalive_probes", "value": "5"},
		{"name": "net/ipv4/tcp_syncookies", "value": "1"},
	])
}

test_quiet_without_sysctls if {
	count(unsafe_sysctls.violation) == 0 with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c"}]},
	}}
}
