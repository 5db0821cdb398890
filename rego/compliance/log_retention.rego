# METADATA
# title: Log retention for sensitive workloads
# description: >-
#   Workloads classified confidential or restricted must declare how long their logs are kept, with the annotation
#   compliance.policy/log-retention-days (a whole number of days) on the workload or its pod template, at least
#   config.minLogRetentionDays (365 by default).
# custom:
#   id: log-retention
#   category: compliance
#   severity: medium
#   frameworks:
#     SOC2: ["CC7.2"]
#     HIPAA: ["164.312(b)"]
#     PCI-DSS: ["10.5.1"]
#     ISO27001: ["A.8.15"]
#   remediation: Keep the workload's logs for at least minLogRetentionDays and record it in the annotation compliance.policy/log-retention-days.
package kubepolicy.compliance.log_retention

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

annotation := "compliance.policy/log-retention-days"

min_days := to_number(config.value("minLogRetentionDays"))

classification := k8s.labels["data-classification"]

sensitive if classification in {"confidential", "restricted"}

violation contains {
	"msg": concat("", [k8s.workload, " is classified ", text.str(classification), " but lacks annotation ", text.str(annotation), " (at least ", text.str(min_days), " days)"]),
	"path": annotations_path,
} if {
	k8s.is_workload
	sensitive
	count(values) == 0
}

violation contains {
	"msg": concat("", [k8s.workload, " is classified ", text.str(classification), " but annotation ", text.str(annotation), " is \"", text.str(shown.value), "\", which is not a whole number of days (at least ", text.str(min_days), " required)"]),
	"path": shown.path,
} if {
	k8s.is_workload
	sensitive
	not retained
	not days(shown.value)
}

violation contains {
	"msg": concat("", [k8s.workload, " is classified ", text.str(classification), " but keeps logs for ", text.str(days(shown.value)), " days (annotation ", text.str(annotation), "), less than the required ", text.str(min_days)]),
	"path": shown.path,
} if {
	k8s.is_workload
	sensitive
	not retained
	days(shown.value) < min_days
}

# The annotation may sit on the workload or on its pod template; either one long enough is enough.
values contains k8s.annotations[annotation]

values contains k8s.pod_annotations[annotation]

retained if {
	some value in values
	days(value) >= min_days
}

# Annotation values are strings; a bare YAML number is read the same way. Undefined unless a whole number.
days(value) := to_number(digits) if {
	digits := trim_space(text.str(value))
	regex.match(`^[0-9]+$`, digits)
}

# The value the message quotes: the workload's own annotation first, then the pod template's.
shown := {"value": k8s.annotations[annotation], "path": patch.pointer("/metadata", ["annotations", annotation])}

shown := {"value": k8s.pod_annotations[annotation], "path": patch.pointer(k8s.pod_metadata_pointer, ["annotations", annotation])} if {
	not annotation in object.keys(k8s.annotations)
}

annotations_path := "/metadata/annotations" if is_object(k8s.obj.metadata.annotations)

default annotations_path := "/metadata"
