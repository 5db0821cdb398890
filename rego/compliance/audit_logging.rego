# METADATA
# title: Audit logging for sensitive workloads
# description: >-
#   Workloads classified confidential or restricted must declare that their activity is audit-logged, with the
#   annotation compliance.policy/audit-logging: enabled on the workload or its pod template.
# custom:
#   id: audit-logging
#   category: compliance
#   severity: medium
#   frameworks:
#     SOC2: ["CC7.2"]
#     HIPAA: ["164.312(b)"]
#     PCI-DSS: ["10.2.1"]
#     ISO27001: ["A.8.15"]
#   remediation: "Ship the workload's logs to the audit pipeline and annotate it compliance.policy/audit-logging: enabled."
package kubepolicy.compliance.audit_logging

import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

annotation := "compliance.policy/audit-logging"

classification := k8s.labels["data-classification"]

sensitive if classification in {"confidential", "restricted"}

violation contains {
	"msg": concat("", [k8s.workload, " is classified ", text.str(classification), " but lacks annotation ", text.str(annotation), ": enabled"]),
	"path": annotations_path,
} if {
	k8s.is_workload
	sensitive
	count(values) == 0
}

violation contains {
	"msg": concat("", [k8s.workload, " is classified ", text.str(classification), " but sets annotation ", text.str(annotation), " to \"", text.str(shown.value), "\" (must be \"enabled\")"]),
	"path": shown.path,
} if {
	k8s.is_workload
	sensitive
	not enabled
	count(values) > 0
}

# The annotation may sit on the workload or on its pod template; either one enabled is enough.
values contains k8s.annotations[annotation]

values contains k8s.pod_annotations[annotation]

enabled if "enabled" in values

# The value the message quotes: the workload's own annotation first, then the pod template's.
shown := {"value": k8s.annotations[annotation], "path": patch.pointer("/metadata", ["annotations", annotation])}

shown := {"value": k8s.pod_annotations[annotation], "path": patch.pointer(k8s.pod_metadata_pointer, ["annotations", annotation])} if {
	not annotation in object.keys(k8s.annotations)
}

annotations_path := "/metadata/annotations" if is_object(k8s.obj.metadata.annotations)

default annotations_path := "/metadata"
