package kubepolicy.operations.required_labels_test

import data.kubepolicy.operations.required_labels

deployment(metadata, image) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": object.union({"name": "web", "namespace": "shop"}, metadata),
	"spec": {
		"selector": {"matchLabels": {"app": "web"}},
		"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
			{"name": "app", "image": image},
			{"name": "sidecar", "image": "envoyproxy/envoy:v1.30.1"},
		]}},
	},
}}

all_labels := {
	"app.kubernetes.io/name": "web",
	"app.kubernetes.io/version": "1.25.3",
	"app.kubernetes.io/component": "frontend",
}

test_fires_once_listing_every_missing_label if {
	findings := required_labels.violation with input as deployment({"labels": {"app": "web"}}, "nginx:1.25.3")
	count(findings) == 1
	some f in findings
	f.msg == `Deployment "web" is missing required labels: app.kubernetes.io/name, app.kubernetes.io/version, app.kubernetes.io/component`
	f.path == "/metadata/labels"
}

test_fix_adds_name_and_version_with_escaped_pointers if {
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": {"app": "web"}}, "registry.acme.com:5000/shop/web:v2.4.1")
	f.fix == [
		{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"},
		{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1version", "value": "v2.4.1"},
	]
}

test_fix_creates_labels_map_when_absent if {
	[f] := [f | some f in required_labels.violation] with input as deployment({}, "nginx:1.25.3")
	f.path == "/metadata"
	f.fix == [{"op": "add", "path": "/metadata/labels", "value": {
		"app.kubernetes.io/name": "web",
		"app.kubernetes.io/version": "1.25.3",
	}}]
}

test_fix_replaces_null_labels if {
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": null}, "nginx:latest")
	f.fix == [{"op": "add", "path": "/metadata/labels", "value": {"app.kubernetes.io/name": "web"}}]
}

test_fix_skips_version_of_a_mutable_tag if {
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": {"app.kubernetes.io/component": "frontend"}}, "nginx:stable")
	f.msg == `Deployment "web" is missing required labels: app.kubernetes.io/name, app.kubernetes.io/version`
	f.fix == [{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"}]
}

test_fix_skips_version_that_is_no_label_value if {
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": {"app.kubernetes.io/name": "web"}}, "acme/web:1.0+build.7")
	f.msg == `Deployment "web" is missing required labels: app.kubernetes.io/version, app.kubernetes.io/component`
	object.keys(f) == {"msg", "path"}
}

test_no_fix_when_only_manual_labels_are_missing if {
	labels := object.remove(all_labels, ["app.kubernetes.io/component"])
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": labels}, "nginx:1.25.3")
	f.msg == `Deployment "web" is missing required labels: app.kubernetes.io/component`
	object.keys(f) == {"msg", "path"}
}

test_blank_label_counts_as_missing_and_is_replaced if {
	labels := object.union(all_labels, {"app.kubernetes.io/version": ""})
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": labels}, "nginx:1.25.3")
	f.fix == [{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1version", "value": "1.25.3"}]
}

test_honours_configured_labels if {
	[f] := [f | some f in required_labels.violation] with input as deployment({"labels": {"team": "shop"}}, "nginx:1.25.3")
		with data.config as {"requiredLabels": ["team", "tier"]}
	f.msg == `Deployment "web" is missing required labels: tier`
	object.keys(f) == {"msg", "path"}
}

test_quiet_when_all_labels_present if {
	count(required_labels.violation) == 0 with input as deployment({"labels": all_labels}, "nginx:1.25.3")
}

test_quiet_for_non_workloads if {
	count(required_labels.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "settings"}}}
}
