# METADATA
# title: Data classification label
# description: >-
#   Every workload must say how sensitive the data it handles is, with the label data-classification set to
#   public, internal, confidential or restricted; the logging and retention rules key off this label.
# custom:
#   id: data-classification-label
#   category: compliance
#   severity: medium
#   frameworks:
#     SOC2: ["C1.1"]
#     ISO27001: ["A.5.12", "A.5.13"]
#   remediation: Label the workload data-classification with one of public, internal, confidential or restricted.
package kubepolicy.compliance.data_classification_label

import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

label := "data-classification"

levels := ["public", "internal", "confidential", "restricted"]

violation contains {
	"msg": concat("", [k8s.workload, " has no label ", text.str(label), " (one of ", concat(", ", levels), ")"]),
	"path": labels_path,
} if {
	k8s.is_workload
	not label in object.keys(k8s.labels)
}

violation contains {
	"msg": concat("", [k8s.workload, " sets label ", text.str(label), " to \"", text.str(value), "\", which is not one of ", concat(", ", levels)]),
	"path": patch.pointer("/metadata", ["labels", label]),
} if {
	k8s.is_workload
	value := k8s.labels[label]
	not value in levels
}

# The closest existing parent of the missing label.
labels_path := "/metadata/labels" if is_object(k8s.obj.metadata.labels)

default labels_path := "/metadata"
