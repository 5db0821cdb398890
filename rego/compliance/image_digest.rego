# METADATA
# title: Image not pinned by digest
# description: >-
#   Only an @sha256 digest names immutable image content; a tag, even a version tag, can be re-pushed,
#   so what runs may differ from what was reviewed and scanned.
# custom:
#   id: image-digest
#   category: compliance
#   severity: low
#   frameworks:
#     SOC2: ["CC7.1", "CC8.1"]
#     PCI-DSS: ["6.3.3"]
#     ISO27001: ["A.8.8", "A.8.19"]
#     NSA-CISA: ["Pod security: building secure container images"]
#   remediation: Pin the image by digest (image:tag@sha256:...), e.g. with your CI or an admission controller that resolves tags.
package kubepolicy.compliance.image_digest

import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.text

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " uses image \"", text.str(image), "\", which is not pinned by an @sha256 digest"]),
	"path": concat("", [entry.pointer, "/image"]),
} if {
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
	not images.pinned_by_digest(image)
}
