package kubepolicy.operations.owner_annotation_test

import data.kubepolicy.operations.owner_annotation

deployment(metadata) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": object.union({"name": "web", "namespace": "shop"}, metadata),
	"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25.3"}]}}},
}}

test_fires_once_listing_every_missing_annotation if {
	findings := owner_annotation.violation with input as deployment({})
	count(findings) == 1
	some f in findings
	f.msg == `Deployment "web" is missing documentation annotations: owner, runbook`
	f.path == "/metadata"
}

test_blank_annotation_counts_as_missing if {
	[f] := [f | some f in owner_annotation.violation] with input as deployment({"annotations": {"owner": "team-shop", "runbook": "  "}})
	f.msg == `Deployment "web" is missing documentation annotations: runbook`
	f.path == "/metadata/annotations"
}

test_honours_configured_annotations if {
	[f] := [f | some f in owner_annotation.violation] with input as deployment({"annotations": {"owner": "team-shop"}})
		with data.config as {"documentationAnnotations": ["owner", "oncall"]}
	f.msg == `Deployment "web" is missing documentation annotations: oncall`
}

test_quiet_when_documented if {
	count(owner_annotation.violation) == 0 with input as deployment({"annotations": {"owner": "team-shop", "runbook": "https://runbooks.acme.com/web"}})
}

test_quiet_for_non_workloads if {
	count(owner_annotation.violation) == 0 with input as {"object": {"kind": "Namespace", "metadata": {"name": "shop"}}}
}
