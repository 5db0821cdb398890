package kubepolicy.operations.priority_class_test

import data.kubepolicy.operations.priority_class

deployment(pod_spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
}}

containers := {"containers": [{"name": "web", "image": "nginx:1.25.3"}]}

production := {"environment": "production"}

test_fires_once_without_priority_class_in_production if {
	findings := priority_class.violation with input as deployment(containers)
		with data.config as production
	count(findings) == 1
	some f in findings
	f.msg == `Deployment "web" sets no priorityClassName in its pod spec`
	f.path == "/spec/template/spec"
	count(priority_class.violation) == 1 with input as deployment(object.union(containers, {"priorityClassName": ""}))
		with data.config as production
}

test_fires_for_cronjob if {
	[f] := [f | some f in priority_class.violation] with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": containers}}}},
	}}
		with data.config as production
	f.path == "/spec/jobTemplate/spec/template/spec"
}

test_quiet_with_priority_class if {
	count(priority_class.violation) == 0 with input as deployment(object.union(containers, {"priorityClassName": "business-critical"}))
		with data.config as production
}

test_quiet_outside_production if {
	count(priority_class.violation) == 0 with input as deployment(containers)
	count(priority_class.violation) == 0 with input as deployment(containers)
		with data.config as {"environment": "staging"}
}

test_quiet_for_non_workloads if {
	count(priority_class.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "web"}, "spec": {}}}
		with data.config as production
}
