# METADATA
# title: Allowed image registries
# description: >-
#   Every container image must come from a registry the organisation trusts (config.allowedRegistries:
#   registry hosts or host/path prefixes), so that only vetted, scanned images reach the cluster.
# custom:
#   id: allowed-registries
#   category: compliance
#   severity: high
#   frameworks:
#     SOC2: ["CC7.1", "CC8.1"]
#     PCI-DSS: ["6.3.3"]
#     ISO27001: ["A.8.8", "A.8.19"]
#     CIS: ["5.5.1"]
#     NSA-CISA: ["Pod security: building secure container images"]
#   remediation: Pull the image from one of the registries listed in allowedRegistries (mirror it there if needed).
package kubepolicy.compliance.allowed_registries

import data.lib.config
import data.lib.images
import data.lib.kubernetes as k8s
import data.lib.text

allowed := [registry | some registry in config.value("allowedRegistries")]

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " uses image \"", text.str(image), "\", which is not from an allowed registry (", concat(", ", allowed), ")"]),
	"path": concat("", [entry.pointer, "/image"]),
} if {
	count(allowed) > 0
	some entry in k8s.containers
	image := entry.container.image
	is_string(image)
	not from_allowed_registry(image)
}

from_allowed_registry(image) if {
	some registry in allowed
	images.from_registry(image, registry)
}

# An empty list is "no policy", not "no registry allowed": say so instead of passing or failing every image.
not_evaluated contains {"msg": concat("", [k8s.workload, ": config.allowedRegistries is empty, so image registries were not checked"])} if {
	k8s.is_workload
	count(allowed) == 0
}
