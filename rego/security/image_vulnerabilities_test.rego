package kubepolicy.security.image_vulnerabilities_test

import data.kubepolicy.security.image_vulnerabilities

deployment := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "shop"},
	"spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {
		"containers": [{"name": "app", "image": "shop/web:1.2"}, {"name": "proxy", "image": "envoy:1.30"}],
		"initContainers": [{"name": "migrate", "image": "shop/migrate:1.2"}],
	}}},
}

report(kind, name, container, critical) := {
	"apiVersion": "aquasecurity.github.io/v1alpha1",
	"kind": "VulnerabilityReport",
	"metadata": {
		"name": sprintf("%s-%s-%s", [lower(kind), name, container]),
		"namespace": "shop",
		"labels": {
			"trivy-operator.resource.kind": kind,
			"trivy-operator.resource.name": name,
			"trivy-operator.resource.namespace": "shop",
			"trivy-operator.container.name": container,
		},
	},
	"report": {"summary": {"criticalCount": critical, "highCount": 7}},
}

test_fires_once_per_container_report_over_the_maximum if {
	findings := image_vulnerabilities.violation with input as {"object": deployment, "context": {"vulnerabilityReports": [
		report("ReplicaSet", "web-7d9f8c6b5", "app", 3),
		report("ReplicaSet", "web-7d9f8c6b5", "proxy", 0),
		report("ReplicaSet", "web-7d9f8c6b5", "migrate", 1),
	]}}
	count(findings) == 2
	{f.path | some f in findings} == {"/spec/template/spec/containers/0", "/spec/template/spec/initContainers/0"}
	some f in findings
	f.msg == `container "app" of Deployment "web" runs image "shop/web:1.2" with critical vulnerabilities: 3 (maximum 0; VulnerabilityReport "replicaset-web-7d9f8c6b5-app")`
	object.keys(f) == {"msg", "path"}
}

test_fires_for_report_on_the_workload_itself if {
	sts := object.union(deployment, {"kind": "StatefulSet"})
	findings := image_vulnerabilities.violation with input as {"object": sts, "context": {"vulnerabilityReports": [
		report("StatefulSet", "web", "app", 2),
		report("Deployment", "web", "proxy", 5),
	]}}
	[f] := [f | some f in findings]
	f.path == "/spec/template/spec/containers/0"
}

test_counts_listed_vulnerabilities_without_summary if {
	without_summary := json.remove(report("ReplicaSet", "web-5c4d", "app", 0), ["report/summary"])
	r := object.union(without_summary, {"report": {"vulnerabilities": [
		{"vulnerabilityID": "CVE-1", "severity": "CRITICAL"},
		{"vulnerabilityID": "CVE-2", "severity": "HIGH"},
	]}})
	findings := image_vulnerabilities.violation with input as {"object": deployment, "context": {"vulnerabilityReports": [r]}}
	[f] := [f | some f in findings]
	contains(f.msg, "with critical vulnerabilities: 1 ")
}

test_threshold_is_configurable if {
	reports := [report("ReplicaSet", "web-7d9f8c6b5", "app", 3)]
	count(image_vulnerabilities.violation) == 0 with input as {"object": deployment, "context": {"vulnerabilityReports": reports}}
		with data.config as {"maxCriticalVulnerabilities": 3}
	count(image_vulnerabilities.violation) == 1 with input as {"object": deployment, "context": {"vulnerabilityReports": reports}}
		with data.config as {"maxCriticalVulnerabilities": 2}
}

test_quiet_when_reports_are_clean if {
	input_clean := {"object": deployment, "context": {"vulnerabilityReports": [
		report("ReplicaSet", "web-7d9f8c6b5", "app", 0),
		report("ReplicaSet", "web-7d9f8c6b5", "proxy", 0),
	]}}
	count(image_vulnerabilities.violation) == 0 with input as input_clean
	count(image_vulnerabilities.not_evaluated) == 0 with input as input_clean
}

test_ignores_reports_of_other_workloads if {
	input_other := {"object": deployment, "context": {"vulnerabilityReports": [
		report("ReplicaSet", "web-api-7d9f8c6b5", "app", 9),
		report("ReplicaSet", "webshop-7d9f8c6b5", "app", 9),
		report("Deployment", "api", "app", 9),
		object.union(report("ReplicaSet", "web-7d9f8c6b5", "app", 9), {"metadata": {"namespace": "other", "labels": {"trivy-operator.resource.namespace": "other"}}}),
		report("ReplicaSet", "web-7d9f8c6b5", "sidecar-removed", 9),
	]}}
	count(image_vulnerabilities.violation) == 0 with input as input_other
	[note] := [n | some n in image_vulnerabilities.not_evaluated] with input as input_other
	note.msg == `no trivy-operator VulnerabilityReport exists for Deployment "web" yet (not scanned yet)`
}

test_not_evaluated_without_vulnerability_reports if {
	count(image_vulnerabilities.violation) == 0 with input as {"object": deployment, "context": {}}
	notes := image_vulnerabilities.not_evaluated with input as {"object": deployment, "context": {}}
	notes == {{"msg": `trivy-operator VulnerabilityReports are not available (is trivy-operator installed?), so the images of Deployment "web" cannot be checked`}}
}

test_not_evaluated_when_not_scanned_yet if {
	notes := image_vulnerabilities.not_evaluated with input as {"object": deployment, "context": {"vulnerabilityReports": []}}
	count(notes) == 1
	count(image_vulnerabilities.violation) == 0 with input as {"object": deployment, "context": {"vulnerabilityReports": []}}
}

test_quiet_for_non_workloads if {
	count(image_vulnerabilities.violation) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}}, "context": {"vulnerabilityReports": []}}
	count(image_vulnerabilities.not_evaluated) == 0 with input as {"object": {"kind": "Service", "metadata": {"name": "s"}}, "context": {}}
}
