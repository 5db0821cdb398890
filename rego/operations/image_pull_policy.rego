# METADATA
# title: Image pull policy for mutable tags
# description: >-
#   A container whose image tag can move (latest, stable, no tag) and whose imagePullPolicy is not Always
#   runs whatever version each node happens to have cached, so pods of one workload can run different code.
# custom:
#   id: image-pull-policy
#   category: operations
#   severity: low
#   frameworks:
#     SOC2: ["CC7.1", "CC8.1"]
#     PCI-DSS: ["6.3.3"]
#     ISO27001: ["A.8.8", "A.8.19"]
#   remediation: Set imagePullPolicy to Always, or better pin the image to a version tag or digest.
#   fix:
#     risk: low
package kubepolicy.operations.image_pull_policy

import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

# Kubernetes defaults imagePullPolicy to Always for :latest or no tag (without digest), else IfNotPresent.
default_policy(image) := "Always" if {
	ref := images.parse(image)
	ref.digest == ""
	ref.tag in {"", "latest"}
} else := "IfNotPresent"

# The policy the container sets; an empty string is unset, as in the API server's defaulting.
set_policy(container) := container.imagePullPolicy if {
	is_string(container.imagePullPolicy)
	container.imagePullPolicy != ""
}

violation contains {
	"msg": msg,
	"path": path,
	"fix": patch.set(entry.container, entry.pointer, ["imagePullPolicy"], "Always"),
} if {
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
	images.mutable(image)
	not set_policy(entry.container)
	policy := default_policy(image)
	policy != "Always"
	path := entry.pointer
	msg := concat("", [k8s.describe(entry), " of ", k8s.workload, " runs mutable image \"", text.str(image), "\" with imagePullPolicy unset, which defaults to ", text.str(policy), " for this tag"])
}

violation contains {
	"msg": msg,
	"path": path,
	"fix": patch.set(entry.container, entry.pointer, ["imagePullPolicy"], "Always"),
} if {
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
	images.mutable(image)
	policy := set_policy(entry.container)
	policy != "Always"
	path := concat("", [entry.pointer, "/imagePullPolicy"])
	msg := concat("", [k8s.describe(entry), " of ", k8s.workload, " runs mutable image \"", text.str(image), "\" with imagePullPolicy ", text.str(policy)])
}
