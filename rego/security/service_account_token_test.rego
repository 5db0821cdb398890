package kubepolicy.security.service_account_token_test

import data.kubepolicy.security.service_account_token

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_per_workload_when_unset if {
	findings := service_account_token.violation with input as deployment({"containers": [{"name": "a"}, {"name": "b"}]})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec"
	f.msg == `Deployment "web" does not set automountServiceAccountToken: false, so its containers get a Kubernetes API token`
	f.fix == [{"op": "add", "path": "/spec/template/spec/automountServiceAccountToken", "value": false}]
}

test_fires_when_set_true if {
	findings := service_account_token.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {"automountServiceAccountToken": true, "containers": [{"name": "c"}]},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/automountServiceAccountToken"
	f.fix == [{"op": "add", "path": "/spec/automountServiceAccountToken", "value": false}]
}

test_fix_on_cronjob_pod_spec if {
	findings := service_account_token.violation with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}},
	}}
	[f] := [f | some f in findings]
	f.fix == [{"op": "add", "path": "/spec/jobTemplate/spec/template/spec/automountServiceAccountToken", "value": false}]
}

test_quiet_when_disabled if {
	count(service_account_token.violation) == 0 with input as deployment({"automountServiceAccountToken": false, "containers": [{"name": "a"}]})
}

test_quiet_for_non_workloads if {
	count(service_account_token.violation) == 0 with input as {"object": {"kind": "ServiceAccount", "metadata": {"name": "sa"}}}
}
