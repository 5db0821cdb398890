# METADATA
# title: Required labels
# description: >-
#   Workloads carry the recommended app.kubernetes.io labels (config.requiredLabels) so that tools, dashboards
#   and people can tell what a workload is, which version runs and which part of the application it is.
# custom:
#   id: required-labels
#   category: operations
#   severity: low
#   frameworks:
#     SOC2: ["CC8.1"]
#     ISO27001: ["A.5.9", "A.8.32"]
#   remediation: Add the missing labels to the workload's metadata.labels.
#   fix:
#     risk: low
package kubepolicy.operations.required_labels

import data.lib.config
import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.patch

missing := [key |
	some key in config.value("requiredLabels")
	not present(k8s.labels, key)
]

# A label with a blank value says nothing.
present(labels, key) if {
	value := labels[key]
	not blank(value)
}

blank(value) if {
	is_string(value)
	trim_space(value) == ""
}

# The labels whose value the object itself tells. Only metadata.labels is patched: the pod template's
# labels feed the (immutable) selector of Deployments and friends.
suggested["app.kubernetes.io/name"] := k8s.name if label_value(k8s.name)

suggested["app.kubernetes.io/version"] := tag if {
	image := k8s.pod_spec.containers[0].image
	is_string(image)
	tag := images.parse(image).tag
	images.version_tag(tag)
	label_value(tag)
}

# A valid Kubernetes label value (a version tag such as 1.0+build or a long name may not be one).
label_value(value) if {
	count(value) > 0
	count(value) <= 63
	regex.match(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`, value)
}

fixable := [key |
	some key in missing
	suggested[key]
]

labels_exist if is_object(k8s.obj.metadata.labels)

fix := [op |
	some key in fixable
	some op in patch.set(k8s.obj, "", ["metadata", "labels", key], suggested[key])
] if labels_exist

# Without a labels map (absent or null), one operation creates it with every suggested label.
fix := patch.set(k8s.obj, "", ["metadata", "labels"], {key: suggested[key] | some key in fixable}) if not labels_exist

labels_path := "/metadata/labels" if labels_exist

else := "/metadata"

default fix_field := {}

fix_field := {"fix": fix} if count(fixable) > 0

violation contains object.union(
	{
		"msg": concat("", [k8s.workload, " is missing required labels: ", concat(", ", missing)]),
		"path": labels_path,
	},
	fix_field,
) if {
	k8s.is_workload
	count(missing) > 0
}
