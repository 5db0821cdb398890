package kubepolicy.compliance.data_classification_label_test

import data.kubepolicy.compliance.data_classification_label

statefulset(metadata) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": metadata,
	"spec": {"template": {"metadata": {"labels": {"data-classification": "restricted"}}, "spec": {"containers": [{"name": "db", "image": "postgres:16.3"}]}}},
}}

test_fires_once_when_the_label_is_missing if {
	[f] := [f | some f in data_classification_label.violation] with input as statefulset({"name": "db", "labels": {"app": "db"}})
	f.path == "/metadata/labels"
	f.msg == `StatefulSet "db" has no label data-classification (one of public, internal, confidential, restricted)`
}

test_points_at_metadata_when_there_are_no_labels if {
	[f] := [f | some f in data_classification_label.violation] with input as statefulset({"name": "db"})
	f.path == "/metadata"
}

test_fires_once_for_a_value_outside_the_scheme if {
	findings := data_classification_label.violation with input as statefulset({"name": "db", "labels": {"data-classification": "secret"}})
	count(findings) == 1
	some f in findings
	f.path == "/metadata/labels/data-classification"
	f.msg == `StatefulSet "db" sets label data-classification to "secret", which is not one of public, internal, confidential, restricted`
}

test_values_are_case_sensitive if {
	count(data_classification_label.violation) == 1 with input as statefulset({"name": "db", "labels": {"data-classification": "Confidential"}})
}

test_pod_template_label_does_not_count if {
	# The label belongs on the workload itself; the template above carries one and the workload still fires.
	count(data_classification_label.violation) == 1 with input as statefulset({"name": "db"})
}

test_quiet_for_every_level if {
	every level in ["public", "internal", "confidential", "restricted"] {
		count(data_classification_label.violation) == 0 with input as statefulset({"name": "db", "labels": {"data-classification": level}})
	}
}

test_quiet_for_non_workloads if {
	count(data_classification_label.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}}}
}
