# METADATA
# title: Image tag is not a version
# description: >-
#   A tag that is not a version (stable, main, dev, or none) can move to different content at any time;
#   unless the image is pinned by digest, the deployed software cannot be traced to a release.
# custom:
#   id: image-version-tag
#   category: compliance
#   severity: low
#   frameworks:
#     SOC2: ["CC7.1", "CC8.1"]
#     PCI-DSS: ["6.3.3"]
#     ISO27001: ["A.8.8", "A.8.19"]
#     NSA-CISA: ["Pod security: building secure container images"]
#   remediation: Tag the image with a version (e.g. 1.4.2 or v2.0) or pin it by @sha256 digest.
package kubepolicy.compliance.image_version_tag

import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " uses image \"", text.str(image), "\", ", text.str(problem(images.parse(image).tag)), " and is not pinned by digest"]),
	"path": concat("", [entry.pointer, "/image"]),
} if {
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
	images.mutable(image)
}

problem(tag) := "which has no version tag" if tag == ""

problem(tag) := concat("", ["whose tag \"", text.str(tag), "\" is not a version (e.g. 1.4.2, v2.0)"]) if tag != ""
