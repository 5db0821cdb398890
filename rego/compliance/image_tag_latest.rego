# METADATA
# title: Image uses the latest tag
# description: >-
#   An image with no tag, or the tag latest, resolves to whatever was pushed last: the running version
#   cannot be known, audited or rolled back. An image pinned by digest without a tag is fine.
# custom:
#   id: image-tag-latest
#   category: compliance
#   severity: medium
#   frameworks:
#     SOC2: ["CC7.1", "CC8.1"]
#     PCI-DSS: ["6.3.3"]
#     ISO27001: ["A.8.8", "A.8.19"]
#     NSA-CISA: ["Pod security: building secure container images"]
#   remediation: Reference the image by an explicit version tag (e.g. 1.4.2) or pin it by @sha256 digest.
package kubepolicy.compliance.image_tag_latest

import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " uses image \"", text.str(image), "\" ", text.str(problem)]),
	"path": concat("", [entry.pointer, "/image"]),
} if {
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
	problem := latest_reference(image)
}

# The digest pins an untagged image; a "latest" tag next to a digest still misleads readers, so it fires.
latest_reference(image) := "without a tag (it resolves to latest)" if {
	images.parse(image).tag == ""
	not images.pinned_by_digest(image)
}

latest_reference(image) := "with the tag latest" if images.parse(image).tag == "latest"
