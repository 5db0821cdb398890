# METADATA
# title: Default service account
# description: >-
#   Workloads should run under a service account of their own rather than the namespace's
#   default one, which every pod shares, so that API permissions can be granted per workload.
# custom:
#   id: default-service-account
#   category: security
#   severity: low
#   frameworks:
#     SOC2: ["CC6.1", "CC6.3"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["7.2.5", "8.2.2"]
#     ISO27001: ["A.5.16", "A.5.18"]
#     CIS: ["5.1.5"]
#     NSA-CISA: ["Authentication and authorization: role-based access control"]
#   remediation: Create a dedicated ServiceAccount for the workload and set serviceAccountName to it.
package kubepolicy.security.default_service_account

import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", [k8s.workload, " runs under the default service account (serviceAccountName ", text.str(rendered), ")"]),
	"path": field_pointer,
} if {
	k8s.is_workload
	service_account in {"", "default"}
}

# serviceAccountName wins; the deprecated serviceAccount is used when it is empty or absent.
service_account := object.get(k8s.pod_spec, "serviceAccountName", "") if {
	object.get(k8s.pod_spec, "serviceAccountName", "") != ""
} else := object.get(k8s.pod_spec, "serviceAccount", "")

rendered := "not set" if service_account == ""

rendered := `"default"` if service_account == "default"

# The field that names the account, else the pod spec that lacks it.
field_pointer := concat("", [k8s.pod_spec_pointer, "/serviceAccountName"]) if {
	object.get(k8s.pod_spec, "serviceAccountName", "") != ""
} else := concat("", [k8s.pod_spec_pointer, "/serviceAccount"]) if {
	object.get(k8s.pod_spec, "serviceAccount", "") != ""
} else := concat("", [k8s.pod_spec_pointer, "/serviceAccountName"]) if {
	"serviceAccountName" in object.keys(k8s.pod_spec)
} else := k8s.pod_spec_pointer
