package kubepolicy.compliance.audit_logging_test

import data.kubepolicy.compliance.audit_logging

deployment(metadata, pod_metadata) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": object.union({"name": "payments", "namespace": "pay"}, metadata),
	"spec": {"template": {"metadata": pod_metadata, "spec": {"containers": [{"name": "api", "image": "registry.acme.com/payments:2.1.0"}]}}},
}}

confidential := {"labels": {"data-classification": "confidential"}}

test_fires_once_when_a_confidential_workload_lacks_the_annotation if {
	[f] := [f | some f in audit_logging.violation] with input as deployment(confidential, {"labels": {"app": "payments"}})
	f.path == "/metadata"
	f.msg == `Deployment "payments" is classified confidential but lacks annotation compliance.policy/audit-logging: enabled`
}

test_fires_once_when_the_annotation_is_not_enabled if {
	metadata := {"labels": {"data-classification": "restricted"}, "annotations": {"compliance.policy/audit-logging": "disabled"}}
	findings := audit_logging.violation with input as deployment(metadata, {})
	count(findings) == 1
	some f in findings
	f.path == "/metadata/annotations/compliance.policy~1audit-logging"
	f.msg == `Deployment "payments" is classified restricted but sets annotation compliance.policy/audit-logging to "disabled" (must be "enabled")`
}

test_points_at_the_pod_template_value_when_only_it_is_set if {
	findings := audit_logging.violation with input as deployment(confidential, {"annotations": {"compliance.policy/audit-logging": "true"}})
	[f] := [f | some f in findings]
	f.path == "/spec/template/metadata/annotations/compliance.policy~1audit-logging"
}

test_points_at_existing_annotations_when_missing if {
	metadata := object.union(confidential, {"annotations": {"owner": "team-pay"}})
	[f] := [f | some f in audit_logging.violation] with input as deployment(metadata, {})
	f.path == "/metadata/annotations"
}

test_quiet_when_enabled_on_the_workload if {
	metadata := object.union(confidential, {"annotations": {"compliance.policy/audit-logging": "enabled"}})
	count(audit_logging.violation) == 0 with input as deployment(metadata, {})
}

test_quiet_when_enabled_on_the_pod_template if {
	count(audit_logging.violation) == 0 with input as deployment(confidential, {"annotations": {"compliance.policy/audit-logging": "enabled"}})
}

test_quiet_for_public_internal_and_unclassified_workloads if {
	count(audit_logging.violation) == 0 with input as deployment({"labels": {"data-classification": "public"}}, {})
	count(audit_logging.violation) == 0 with input as deployment({"labels": {"data-classification": "internal"}}, {})
	count(audit_logging.violation) == 0 with input as deployment({}, {})
}

test_fires_for_a_bare_pod if {
	pod := {"object": {"kind": "Pod", "metadata": {"name": "p", "labels": {"data-classification": "restricted"}, "annotations": {"compliance.policy/audit-logging": "no"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}
	[f] := [f | some f in audit_logging.violation] with input as pod
	f.path == "/metadata/annotations/compliance.policy~1audit-logging"
}

test_quiet_for_non_workloads if {
	count(audit_logging.violation) == 0 with input as {"object": {"kind": "Secret", "metadata": {"name": "s", "labels": {"data-classification": "restricted"}}}}
}
