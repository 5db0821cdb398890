# METADATA
# title: Owner and runbook annotations
# description: >-
#   Workloads name who owns them and where their runbook lives (config.documentationAnnotations, owner and
#   runbook by default), so that whoever is paged knows whom to call and what to do.
# custom:
#   id: owner-annotation
#   category: operations
#   severity: low
#   frameworks:
#     SOC2: ["CC8.1"]
#     ISO27001: ["A.5.9", "A.5.37", "A.8.32"]
#   remediation: Add the missing annotations (the owning team and a link to the runbook) to the workload's metadata.annotations.
package kubepolicy.operations.owner_annotation

import data.lib.config
import data.lib.kubernetes as k8s

missing := [key |
	some key in config.value("documentationAnnotations")
	not present(k8s.annotations, key)
]

# An annotation with a blank value documents nothing.
present(annotations, key) if {
	value := annotations[key]
	not blank(value)
}

blank(value) if {
	is_string(value)
	trim_space(value) == ""
}

annotations_path := "/metadata/annotations" if is_object(k8s.obj.metadata.annotations)

else := "/metadata"

violation contains {
	"msg": concat("", [k8s.workload, " is missing documentation annotations: ", concat(", ", missing)]),
	"path": annotations_path,
} if {
	k8s.is_workload
	count(missing) > 0
}
