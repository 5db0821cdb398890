# METADATA
# title: Limit far above request
# description: >-
#   A CPU or memory limit many times the request (above config.maxLimitRequestRatio, 4 by default) lets the
#   scheduler overcommit nodes: the pod is placed for its request but may burst to its limit, which leads to
#   throttling, OOM kills and evictions, or to oversized nodes.
# custom:
#   id: request-limit-ratio
#   category: cost
#   severity: low
#   frameworks:
#     SOC2: ["A1.1"]
#     ISO27001: ["A.8.6"]
#   remediation: Raise the request or lower the limit so that limit/request stays within the configured ratio.
package kubepolicy.cost.request_limit_ratio

import data.lib.config
import data.lib.kubernetes as k8s
import data.lib.quantity
import data.lib.text

resource_names := ["cpu", "memory"]

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has a ", text.str(resource), " limit/request ratio of ", text.str(rounded(ratio)), " (limit ", text.str(limit), ", request ", text.str(request), "), above the maximum of ", text.str(maximum)]),
	"path": concat("", [entry.pointer, "/resources/limits/", text.str(resource)]),
} if {
	maximum := quantity.parse(config.value("maxLimitRequestRatio"))
	some entry in k8s.resourced_containers
	some resource in resource_names
	request := entry.container.resources.requests[resource]
	limit := entry.container.resources.limits[resource]

	# Unparsable quantities leave these undefined: the rule stays quiet for them. A zero request has no ratio.
	request_value := quantity.parse(request)
	limit_value := quantity.parse(limit)
	request_value > 0
	ratio := limit_value / request_value
	ratio > maximum
}

# One decimal is enough for a message.
rounded(x) := round(x * 10) / 10
