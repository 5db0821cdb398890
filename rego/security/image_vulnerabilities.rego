# METADATA
# title: Critical image vulnerabilities
# description: >-
#   The images a workload runs should carry no more critical vulnerabilities than the configured
#   maximum, as counted by the trivy-operator VulnerabilityReports of the workload.
# custom:
#   id: image-vulnerabilities
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC7.1"]
#     HIPAA: ["164.308(a)(1)(ii)(B)"]
#     PCI-DSS: ["6.3.1", "6.3.3", "11.3.1"]
#     ISO27001: ["A.8.8"]
#     NSA-CISA: ["Pod security: building secure container images"]
#   remediation: Rebuild the image on a patched base image or upgrade the vulnerable packages, then redeploy.
package kubepolicy.security.image_vulnerabilities

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.text

label_kind := "trivy-operator.resource.kind"

label_name := "trivy-operator.resource.name"

label_namespace := "trivy-operator.resource.namespace"

label_container := "trivy-operator.container.name"

not_evaluated contains {"msg": concat("", ["trivy-operator VulnerabilityReports are not available (is trivy-operator installed?), so the images of ", k8s.workload, " cannot be checked"])} if {
	k8s.is_workload
	not k8s.known("vulnerabilityReports")
}

not_evaluated contains {"msg": concat("", ["no trivy-operator VulnerabilityReport exists for ", k8s.workload, " yet (not scanned yet)"])} if {
	k8s.is_workload
	k8s.known("vulnerabilityReports")
	count(reports) == 0
}

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " runs image ", text.quote(object.get(entry.container, "image", "")), " with critical vulnerabilities: ", text.str(critical), " (maximum ", text.str(maximum), "; VulnerabilityReport ", text.quote(report_name), ")"]),
	"path": entry.pointer,
} if {
	some report in reports
	some entry in k8s.containers
	entry.name == report.metadata.labels[label_container]
	critical := critical_count(report)
	maximum := config.value("maxCriticalVulnerabilities")
	critical > maximum
	report_name := object.get(report.metadata, "name", "")
}

# The reports of this workload's containers.
reports contains report if {
	k8s.is_workload
	some report in k8s.context_list("vulnerabilityReports")
	labels := object.get(report, ["metadata", "labels"], {})
	same_namespace(report, labels)
	owned(labels[label_kind], labels[label_name])
	labels[label_container] in {entry.name | some entry in k8s.containers}
}

same_namespace(report, labels) if {
	namespace := object.get(labels, label_namespace, object.get(report, ["metadata", "namespace"], k8s.namespace))
	namespace == k8s.namespace
}

owned(kind, name) if {
	kind == k8s.kind
	name == k8s.name
}

# trivy-operator scans the ReplicaSets of a Deployment: <deployment>-<pod-template-hash>.
owned("ReplicaSet", name) if {
	k8s.kind == "Deployment"
	prefix := concat("", [k8s.name, "-"])
	startswith(name, prefix)
	regex.match(`^[a-z0-9]+$`, substring(name, count(prefix), -1))
}

critical_count(report) := report.report.summary.criticalCount

# Without a summary, count the listed vulnerabilities.
critical_count(report) := count([v |
	some v in object.get(report, ["report", "vulnerabilities"], [])
	v.severity == "CRITICAL"
]) if {
	not report.report.summary.criticalCount
}
