package kubepolicy.security.default_service_account_test

import data.kubepolicy.security.default_service_account

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

test_fires_once_when_service_account_absent if {
	findings := default_service_account.violation with input as deployment({"containers": [{"name": "a"}, {"name": "b"}]})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec"
	f.msg == `Deployment "web" runs under the default service account (serviceAccountName not set)`
	object.keys(f) == {"msg", "path"}
}

test_fires_when_named_default if {
	findings := default_service_account.violation with input as deployment({"serviceAccountName": "default", "containers": [{"name": "a"}]})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/serviceAccountName"
	f.msg == `Deployment "web" runs under the default service account (serviceAccountName "default")`
}

test_fires_when_empty if {
	findings := default_service_account.violation with input as deployment({"serviceAccountName": "", "containers": [{"name": "a"}]})
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/serviceAccountName"
}

test_fires_once_for_live_pod_with_both_fields if {
	findings := default_service_account.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p", "namespace": "shop"},
		"spec": {"serviceAccountName": "default", "serviceAccount": "default", "containers": [{"name": "c"}]},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/serviceAccountName"
}

test_fires_for_deprecated_field_set_to_default if {
	findings := default_service_account.violation with input as {"object": {
		"kind": "Pod",
		"metadata": {"name": "p"},
		"spec": {"serviceAccount": "default", "containers": [{"name": "c"}]},
	}}
	[f] := [f | some f in findings]
	f.path == "/spec/serviceAccount"
}

test_quiet_with_dedicated_service_account if {
	count(default_service_account.violation) == 0 with input as deployment({"serviceAccountName": "web", "containers": [{"name": "a"}]})
}

test_quiet_with_deprecated_field_only if {
	count(default_service_account.violation) == 0 with input as deployment({"serviceAccount": "web", "containers": [{"name": "a"}]})
}

test_quiet_for_non_workloads if {
	count(default_service_account.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}, "spec": {}}}
}
