package kubepolicy.compliance.log_retention_test

import data.kubepolicy.compliance.log_retention

deployment(metadata, pod_metadata) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": object.union({"name": "ledger", "namespace": "pay"}, metadata),
	"spec": {"template": {"metadata": pod_metadata, "spec": {"containers": [{"name": "api", "image": "registry.acme.com/ledger:3.0.1"}]}}},
}}

restricted := {"labels": {"data-classification": "restricted"}}

retention(days) := object.union(restricted, {"annotations": {"compliance.policy/log-retention-days": days}})

test_fires_once_when_the_annotation_is_missing if {
	[f] := [f | some f in log_retention.violation] with input as deployment(restricted, {})
	f.path == "/metadata"
	f.msg == `Deployment "ledger" is classified restricted but lacks annotation compliance.policy/log-retention-days (at least 365 days)`
}

test_fires_once_when_retention_is_too_short if {
	findings := log_retention.violation with input as deployment(retention("90"), {})
	count(findings) == 1
	some f in findings
	f.path == "/metadata/annotations/compliance.policy~1log-retention-days"
	f.msg == `Deployment "ledger" is classified restricted but keeps logs for 90 days (annotation compliance.policy/log-retention-days), less than the required 365`
}

test_fires_once_for_a_non_numeric_value if {
	findings := log_retention.violation with input as deployment(retention("1y"), {})
	count(findings) == 1
	some f in findings
	f.path == "/metadata/annotations/compliance.policy~1log-retention-days"
	f.msg == `Deployment "ledger" is classified restricted but annotation compliance.policy/log-retention-days is "1y", which is not a whole number of days (at least 365 required)`
}

test_fractional_and_negative_values_are_not_whole_days if {
	count(log_retention.violation) == 1 with input as deployment(retention("400.5"), {})
	count(log_retention.violation) == 1 with input as deployment(retention("-400"), {})
}

test_threshold_comes_from_config if {
	count(log_retention.violation) == 0 with input as deployment(retention("90"), {}) with data.config as {"minLogRetentionDays": 90}
	[f] := [f | some f in log_retention.violation] with input as deployment(retention("400"), {}) with data.config as {"minLogRetentionDays": 730}
	f.msg == `Deployment "ledger" is classified restricted but keeps logs for 400 days (annotation compliance.policy/log-retention-days), less than the required 730`
}

test_reads_the_pod_template_annotation if {
	confidential := {"labels": {"data-classification": "confidential"}}
	[f] := [f | some f in log_retention.violation] with input as deployment(confidential, {"annotations": {"compliance.policy/log-retention-days": "30"}})
	f.path == "/spec/template/metadata/annotations/compliance.policy~1log-retention-days"
	count(log_retention.violation) == 0 with input as deployment(confidential, {"annotations": {"compliance.policy/log-retention-days": "400"}})
}

test_quiet_when_retention_is_long_enough if {
	count(log_retention.violation) == 0 with input as deployment(retention("365"), {})
	count(log_retention.violation) == 0 with input as deployment(retention(" 2555 "), {})
	count(log_retention.violation) == 0 with input as deployment(retention(400), {})
}

test_quiet_for_public_internal_and_unclassified_workloads if {
	count(log_retention.violation) == 0 with input as deployment({"labels": {"data-classification": "public"}}, {})
	count(log_retention.violation) == 0 with input as deployment({"labels": {"data-classification": "internal"}}, {})
	count(log_retention.violation) == 0 with input as deployment({}, {})
}

test_quiet_for_non_workloads if {
	count(log_retention.violation) == 0 with input as {"object": {"kind": "ConfigMap", "metadata": {"name": "c", "labels": {"data-classification": "restricted"}}}}
}
