package kubepolicy.cost.cost_allocation_labels_test

import data.kubepolicy.cost.cost_allocation_labels

deployment(labels) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop", "labels": labels},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "nginx:1.25"}]}}},
}}

test_fires_once_listing_every_missing_label if {
	findings := cost_allocation_labels.violation with input as deployment({"app": "web"})
	count(findings) == 1
	some f in findings
	f.msg == `Deployment "web" is missing cost allocation labels: team, cost-center`
	f.path == "/metadata/labels"
}

test_blank_label_counts_as_missing if {
	[f] := [f | some f in cost_allocation_labels.violation] with input as deployment({"team": " ", "cost-center": "cc-42"})
	f.msg == `Deployment "web" is missing cost allocation labels: team`
}

test_points_at_metadata_without_labels if {
	[f] := [f | some f in cost_allocation_labels.violation] with input as {"object": {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}},
	}}
	f.path == "/metadata"
}

test_honours_configured_labels if {
	[f] := [f | some f in cost_allocation_labels.violation] with input as deployment({"team": "shop"})
		with data.config as {"costLabels": ["team", "product"]}
	f.msg == `Deployment "web" is missing cost allocation labels: product`
}

test_quiet_when_labelled if {
	count(cost_allocation_labels.violation) == 0 with input as deployment({"team": "shop", "cost-center": "cc-42"})
}

test_quiet_for_non_workloads if {
	count(cost_allocation_labels.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "web"}}}
}
