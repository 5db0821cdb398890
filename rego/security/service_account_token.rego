# METADATA
# title: Service account token automounted
# description: >-
#   Unless the pod sets automountServiceAccountToken to false, Kubernetes mounts an API token into
#   every container; a compromised container can then call the Kubernetes API with the pod's identity.
# custom:
#   id: service-account-token
#   category: security
#   severity: medium
#   frameworks:
#     SOC2: ["CC6.1"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["7.2.5", "8.6.3"]
#     ISO27001: ["A.5.15", "A.5.17"]
#     CIS: ["5.1.6"]
#     NSA-CISA: ["Pod security: protecting Pod service account tokens"]
#   remediation: Set automountServiceAccountToken to false in the pod spec, and mount a projected token only in pods that call the Kubernetes API.
#   fix:
#     risk: medium
package kubepolicy.security.service_account_token

import data.lib.kubernetes as k8s
import data.lib.patch

violation contains {
	"msg": concat("", [k8s.workload, " does not set automountServiceAccountToken: false, so its containers get a Kubernetes API token"]),
	"path": path,
	"fix": patch.set(k8s.pod_spec, k8s.pod_spec_pointer, ["automountServiceAccountToken"], false),
} if {
	k8s.is_workload
	object.get(k8s.pod_spec, "automountServiceAccountToken", null) != false
	path := field_pointer
}

# The field when present, else the pod spec that lacks it.
field_pointer := concat("", [k8s.pod_spec_pointer, "/automountServiceAccountToken"]) if "automountServiceAccountToken" in object.keys(k8s.pod_spec)

field_pointer := k8s.pod_spec_pointer if not "automountServiceAccountToken" in object.keys(k8s.pod_spec)
